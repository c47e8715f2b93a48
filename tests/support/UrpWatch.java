// Under-replicated partitions sampled from outside the cluster, in one JVM for a whole rolling change (a JVM per sample
// took a core of this 2-core machine for as long as a roll lasted). Run through the client's kafka-run-class.sh in
// Java's source-file mode: kafka-run-class.sh /path/UrpWatch.java <bootstrap> <client properties or ""> <pause ms> <max samples>
// Prints one line per sample: "<start µs> <end µs> <count>" ("-" instead of a count when the sample failed), times from
// System.nanoTime (CLOCK_MONOTONIC on Linux, the clock systemd stamps units with). A partition counts as
// under-replicated as kafka-topics --under-replicated-partitions counts it: fewer in-sync replicas than its replication
// factor (replicas being added by a reassignment not counted). Bounded by <max samples>; stopped by its PID.
import java.io.FileInputStream;
import java.io.InputStream;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.PartitionReassignment;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;

public class UrpWatch {
    public static void main(String[] args) throws Exception {
        if (args.length != 4) throw new IllegalArgumentException("usage: UrpWatch <bootstrap> <client properties or \"\"> <pause ms> <max samples>");
        Properties props = new Properties();
        if (!args[1].isEmpty()) {
            try (InputStream in = new FileInputStream(args[1])) { props.load(in); }
        }
        props.put("bootstrap.servers", args[0]);
        props.put("request.timeout.ms", "10000");
        props.put("default.api.timeout.ms", "15000");
        long pause = Long.parseLong(args[2]);
        long max = Long.parseLong(args[3]);
        try (Admin admin = Admin.create(props)) {
            for (long i = 0; i < max; i++) {
                long start = System.nanoTime() / 1000;
                String count;
                try {
                    count = String.valueOf(underReplicated(admin));
                } catch (Exception e) {
                    count = "-";
                }
                long end = System.nanoTime() / 1000;
                System.out.println(start + " " + end + " " + count);
                System.out.flush();
                Thread.sleep(pause);
            }
        }
    }

    static int underReplicated(Admin admin) throws Exception {
        Set<String> names = admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get(15, TimeUnit.SECONDS);
        Map<String, TopicDescription> topics = admin.describeTopics(names).allTopicNames().get(15, TimeUnit.SECONDS);
        Map<TopicPartition, PartitionReassignment> moving = admin.listPartitionReassignments().reassignments().get(15, TimeUnit.SECONDS);
        int n = 0;
        for (TopicDescription t : topics.values()) {
            for (TopicPartitionInfo p : t.partitions()) {
                PartitionReassignment r = moving.get(new TopicPartition(t.name(), p.partition()));
                int factor = p.replicas().size() - (r == null ? 0 : r.addingReplicas().size());
                if (factor - p.isr().size() > 0) n++;
            }
        }
        return n;
    }
}
