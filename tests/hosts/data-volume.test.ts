// Real host: the storage step (mount-data-volume.sh, its command line exactly as the plan renders it) on one local
// systemd host, with a loop device standing in for the EBS volume (DEVICE) and a stand-in `kafka` service. It must
// refuse to mount under a running service or over a data directory that holds files, mount a blank volume after the
// data was moved aside (the procedure its message gives), change nothing on a rerun, and grow the filesystem online
// when the volume grew, without touching the running service.
//
// It boots its own host in lab test2, so it never shares hosts with cluster.test.ts (lab test); mocha runs the files
// one after another. XFS (what the EC2 images format) comes from Debian's xfsprogs, unpacked onto the host: the host
// image has no xfsprogs, and ext4 cannot grow online inside systemd-nspawn (no CAP_SYS_RESOURCE there).
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseConfig } from "../../components/config";
import { hostCommand, parseHostCommand } from "../../components/host-command";
import { PATHS } from "../../components/layout";
import { commandText, planSteps } from "../../components/plan";
import { ClusterNode, ec2Nodes } from "../../components/topology";
import { CACHE, LABS, Ssh, freshHostsUp, hostsDown, log } from "../../scripts/lib/local";
import { stopwatch } from "../support/timing";

const LAB = LABS.dataVolume;
const IMAGE = "/var/tmp/kc-data-volume.img";
const MOUNT = PATHS.kafkaData;
const { timed, summary } = stopwatch();

/** The storage step's command line for a one-node EC2 cluster with a data volume of `sizeGb`, on `device`. */
function storageLine(sizeGb: number, device: string): string {
    const cfg = parseConfig({ sshCidrs: ["198.51.100.7/32"], brokerCount: 1, zookeeperCount: 1, dataVolume: { sizeGb } }, "test");
    if (cfg.mode !== "ec2") throw new Error("EC2 configuration expected");
    const nodes: ClusterNode[] = ec2Nodes(cfg).map((n) => ({ name: n.name, roles: n.roles, brokerId: n.brokerId, zookeeperId: n.zookeeperId,
        user: n.user, sshAddress: "10.0.0.1", clientAddress: "10.0.0.1", privateAddress: "10.0.0.1", dataVolumeId: "vol-0123456789abcdef0" }));
    // Only this step is rendered: it carries no credential (the configure steps of a secured cluster would).
    const step = planSteps(cfg, nodes).find((s) => s.phase === "storage");
    assert.ok(step, "the plan has a storage step");
    const { env } = parseHostCommand(commandText(step.create, nodes));
    assert.strictEqual(env.MOUNT_POINT, MOUNT);
    assert.strictEqual(env.SERVICES, "kafka");
    return hostCommand("mount-data-volume.sh", { ...env, DEVICE: device });
}

/** mkfs.xfs, xfs_growfs and their two libraries from Debian 12's packages, as a tar for /usr/local (cached). */
function xfsTools(): Buffer {
    const dir = path.join(CACHE, "xfsprogs");
    const tar = path.join(dir, "xfs-tools.tar");
    if (!fs.existsSync(tar)) {
        fs.mkdirSync(path.join(dir, "debs"), { recursive: true });
        execFileSync("apt-get", ["download", "xfsprogs", "libinih1", "liburcu8"], { cwd: path.join(dir, "debs"), stdio: "pipe" });
        const root = path.join(dir, "root");
        for (const deb of fs.readdirSync(path.join(dir, "debs")).filter((f) => f.endsWith(".deb"))) {
            execFileSync("dpkg-deb", ["-x", path.join(dir, "debs", deb), root]);
        }
        const stage = path.join(dir, "stage");
        fs.mkdirSync(path.join(stage, "sbin"), { recursive: true });
        fs.mkdirSync(path.join(stage, "lib"), { recursive: true });
        fs.copyFileSync(path.join(root, "sbin", "mkfs.xfs"), path.join(stage, "sbin", "mkfs.xfs"));
        fs.copyFileSync(path.join(root, "usr", "sbin", "xfs_growfs"), path.join(stage, "sbin", "xfs_growfs"));
        for (const lib of ["libinih.so.1", "liburcu.so.8", "liburcu-common.so.8"]) {
            const src = path.join(root, "usr", "lib", "x86_64-linux-gnu", lib);
            if (fs.existsSync(src)) fs.copyFileSync(fs.realpathSync(src), path.join(stage, "lib", lib));
        }
        execFileSync("tar", ["-C", stage, "-cf", `${tar}.partial`, "sbin", "lib"]);
        fs.renameSync(`${tar}.partial`, tar);
    }
    return fs.readFileSync(tar);
}

describe("real host: the storage step with a data volume (loop device)", function () {
    let ssh: Ssh;
    let address: string;
    let device = "";
    const sh = (cmd: string) => ssh.exec(address, cmd, 120_000);
    const must = (cmd: string) => ssh.must(address, cmd, 120_000);
    const step = (sizeGb = 1) => sh(storageLine(sizeGb, device));
    const mounted = async () => (await sh(`findmnt -n -o SOURCE,FSTYPE --mountpoint ${MOUNT}`)).stdout.trim();
    const fstabLines = async () => Number((await sh(`grep -c ' ${MOUNT} ' /etc/fstab || true`)).stdout.trim());
    const blank = async () => (await sh(`sudo blkid -p -o value -s TYPE ${device}`)).stdout.trim() === "";

    before(async () => {
        const start = Date.now();
        const env = await timed("setup: 1 host of lab test2", () => freshHostsUp(1, LAB));
        ssh = new Ssh(env);
        address = env.hosts[0].address;
        const tools = await timed("setup: xfs tools", () => xfsTools());
        execFileSync("ssh", [...ssh.args(address), "sudo tar -C /usr/local -xf - && sudo ldconfig && sudo sh -c 'command -v mkfs.xfs && command -v xfs_growfs' >/dev/null"],
            { input: tools, stdio: ["pipe", "pipe", "inherit"] });
        // The loop device: its node is made inside the container (nspawn gives it none), the device is the kernel's.
        device = (await must([
            "set -e; sudo rm -f " + IMAGE + "; sudo truncate -s 1G " + IMAGE,
            "[ -e /dev/loop-control ] || sudo mknod -m 660 /dev/loop-control c 10 237",
            "d=$(sudo losetup -f); [ -e \"$d\" ] || sudo mknod -m 660 \"$d\" b 7 \"${d#/dev/loop}\"",
            "sudo losetup \"$d\" " + IMAGE + " && echo \"$d\"",
        ].join("; "))).trim();
        log(`loop device ${device} on ${IMAGE}`);
        // A stand-in for the broker: a running service whose data directory is the mount point.
        await must("printf '[Service]\\nExecStart=/bin/sleep infinity\\n' | sudo tee /etc/systemd/system/kafka.service >/dev/null && " +
            "sudo systemctl daemon-reload");
        log(`[timing] setup: ${((Date.now() - start) / 1000).toFixed(1)} s`);
    });

    after(async () => {
        try {
            if (ssh && device) {
                await sh(`sudo systemctl stop kafka; sudo umount ${MOUNT}; sudo losetup -d ${device}`);
                // The loop device is the machine's: never leave it behind, even when the host did not answer.
                const back = execFileSync("losetup", ["-n", "-O", "BACK-FILE", device], { encoding: "utf8" }).trim();
                if (back.endsWith(path.basename(IMAGE))) execFileSync("losetup", ["-d", device]);
            }
        } finally {
            hostsDown(LAB);
            log(`[timing] summary: ${summary()}`);
        }
    });

    it("refuses to mount while the service that keeps its data there is running, and touches nothing", async () => {
        await must("sudo systemctl start kafka");
        const r = await timed("refusal: running service", () => step());
        assert.notStrictEqual(r.code, 0);
        assert.match(r.stderr, /refusing to mount data volume vol-0123456789abcdef0 at \/var\/lib\/kafka: kafka is running/);
        assert.match(r.stderr, /sudo systemctl stop kafka; sudo mv \/var\/lib\/kafka \/var\/lib\/kafka\.root; pulumi up/);
        assert.strictEqual(await mounted(), "");
        assert.ok(await blank(), "the volume was not formatted");
        assert.strictEqual(await fstabLines(), 0);
        assert.strictEqual((await sh("systemctl is-active kafka")).stdout.trim(), "active");
    });

    it("refuses to mount over a data directory that holds files (data on the root volume), service stopped", async () => {
        await must(`sudo systemctl stop kafka && sudo mkdir -p ${MOUNT}/data && echo broker.id=1 | sudo tee ${MOUNT}/data/meta.properties >/dev/null`);
        const r = await timed("refusal: non-empty directory", () => step());
        assert.notStrictEqual(r.code, 0);
        assert.match(r.stderr, /at \/var\/lib\/kafka: the directory is not empty \(1 entries on the root volume\) and the mount would hide them/);
        assert.strictEqual(await mounted(), "");
        assert.ok(await blank(), "the volume was not formatted");
        assert.strictEqual(await fstabLines(), 0);
        assert.strictEqual((await must(`cat ${MOUNT}/data/meta.properties`)).trim(), "broker.id=1");
    });

    it("after the data is moved aside (the message's procedure) it formats the blank volume, mounts it, and the data goes onto it", async () => {
        await must(`sudo mv ${MOUNT} ${MOUNT}.root`);
        const r = await timed("mount: blank volume", () => step());
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stderr, /formatted blank volume/);
        assert.strictEqual(await mounted(), `${device} xfs`);
        assert.strictEqual(await fstabLines(), 1);
        assert.match(await must("cat /etc/fstab"), new RegExp(`^UUID=\\S+ ${MOUNT} xfs defaults,noatime,nofail 0 2$`, "m"));
        assert.strictEqual((await must(`stat -c %U ${MOUNT}`)).trim(), PATHS.serviceUser);
        await must(`sudo cp -a ${MOUNT}.root/. ${MOUNT}/ && sudo systemctl start kafka`);
        assert.strictEqual((await must(`findmnt -n -o SOURCE --target ${MOUNT}/data/meta.properties`)).trim(), device);
    });

    it("a rerun with the service running changes nothing (no format, no mount, one fstab line)", async () => {
        const r = await timed("rerun", () => step());
        assert.strictEqual(r.code, 0, r.stderr);
        assert.doesNotMatch(r.stderr, /formatted|mounted|added|grew/);
        assert.strictEqual(await fstabLines(), 1);
        assert.strictEqual((await must(`cat ${MOUNT}/data/meta.properties`)).trim(), "broker.id=1");
    });

    it("a larger volume (SIZE_GB 1 -> 2) grows the mounted filesystem online; the service keeps running", async () => {
        const pid = (await must("systemctl show -p MainPID --value kafka")).trim();
        const size = async () => Number((await must(`df -B1 --output=size ${MOUNT} | tail -n 1`)).trim());
        const before = await size();
        await must(`sudo truncate -s 2G ${IMAGE} && sudo losetup -c ${device}`); // what EBS's ModifyVolume does to the device
        const r = await timed("grow: 1 -> 2 GiB", () => step(2));
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stderr, /grew the filesystem at \/var\/lib\/kafka from \d+ to \d+ MiB/);
        const after = await size();
        assert.ok(after > before + (900 << 20), `filesystem ${before} -> ${after} bytes`);
        assert.strictEqual((await must("systemctl show -p MainPID --value kafka")).trim(), pid, "the service was not restarted");
        assert.strictEqual((await must(`cat ${MOUNT}/data/meta.properties`)).trim(), "broker.id=1");
    });
});
