#!/usr/bin/env bash
# Phase `users` (kafka:security sasl_ssl; after the broker check, again whenever kafka:clientUsers or kafka:acls
# change): the SCRAM users of kafka:clientUsers, with their passwords, and no other (but the admin principal); with
# kafka:acls, exactly the ACLs it lists for them (ACLs of other principals but the admin's are removed too). Brokers
# pick both up as they change: nothing restarts. Passwords reach the tool in files of a private temporary directory,
# never on a command line.
# Env:
#   BOOTSTRAP      comma-separated internal host:port of the brokers
#   CLIENT_CONFIG  client properties of the admin principal
#   ADMIN_USER     the admin principal (never removed)
#   USERS_B64      base64 of lines "<user> <password>": the users there must be (empty: none)
#   ACLS_MANAGED   true: the ACLs are exactly ACLS; false: ACLs are left alone (no authorizer)
#   ACLS           lines "<user> TOPIC|GROUP <name> LITERAL|PREFIXED <operation>" (empty: none)
#   KAFKA_HOME     the Kafka install whose tools do this
#   TOOLS_LOG_DIR  LOG_DIR for those tools
set -euo pipefail
if ! declare -F log >/dev/null; then . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"; fi
: "${BOOTSTRAP:?}" "${CLIENT_CONFIG:?}" "${ADMIN_USER:?}" "${USERS_B64?}" "${ACLS_MANAGED:?}" "${ACLS?}" "${KAFKA_HOME:?}" "${TOOLS_LOG_DIR:?}"
admin() { "$(kafka_bin "$1")" --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" "${@:2}"; }
work=$(umask 077 && mktemp -d)
# shellcheck disable=SC2016 # expands when the step ends
on_exit 'rm -rf "$work"'
users=$(printf '%s' "$USERS_B64" | base64 -d) || die "USERS_B64 is not valid base64"

# --- SCRAM users --------------------------------------------------------------------------------------------------
wanted=()
while read -r user password; do
  [[ -n $user ]] || continue
  wanted+=("$user")
  scram_config "$work/scram.properties" "$password"
  admin kafka-configs.sh --alter --add-config-file "$work/scram.properties" --entity-type users --entity-name "$user" >/dev/null ||
    die "could not set the SCRAM credential of $user"
done <<<"$users"
command -p rm -f "$work/scram.properties"
existing=$(admin kafka-configs.sh --describe --entity-type users) || die "could not list the SCRAM users through $BOOTSTRAP"
removed=()
while read -r user; do
  [[ -n $user && $user != "$ADMIN_USER" ]] || continue
  printf '%s\n' "${wanted[@]}" | grep -qxF -- "$user" && continue
  admin kafka-configs.sh --alter --delete-config SCRAM-SHA-512 --entity-type users --entity-name "$user" >/dev/null ||
    die "could not remove the SCRAM credential of $user"
  removed+=("$user")
done < <(sed -n "s/^SCRAM credential configs for user-principal '\([^']*\)' are .*SCRAM-SHA-512.*/\1/p" <<<"$existing")
log "SCRAM users: ${#wanted[@]} set (${wanted[*]:-none}), ${#removed[@]} removed (${removed[*]:-none})"

# --- ACLs ---------------------------------------------------------------------------------------------------------
if [[ $ACLS_MANAGED != true ]]; then
  echo "client users: ${wanted[*]:-none}; ACLs not managed (kafka:acls unset, no authorizer)"
  exit 0
fi
# What the authorizer holds now, as ACLS lines (allow rules of user principals on any host), the admin's left out.
listed=$(admin kafka-acls.sh --list) || die "could not list the ACLs through $BOOTSTRAP"
awk -v admin="User:$ADMIN_USER" '
  /^Current ACLs for resource/ {
    match($0, /resourceType=[A-Z_]+/); type = substr($0, RSTART + 13, RLENGTH - 13)
    match($0, /name=[^,]+/); name = substr($0, RSTART + 5, RLENGTH - 5)
    match($0, /patternType=[A-Z]+/); pattern = substr($0, RSTART + 12, RLENGTH - 12)
    next
  }
  /principal=User:/ && /permissionType=ALLOW/ && /host=\*/ {
    match($0, /principal=User:[^,]+/); principal = substr($0, RSTART + 10, RLENGTH - 10)
    match($0, /operation=[A-Z_]+/); op = substr($0, RSTART + 10, RLENGTH - 10)
    if (principal != admin) print substr(principal, 6), type, name, pattern, op
  }' <<<"$listed" | LC_ALL=C sort -u > "$work/have"
printf '%s\n' "$ACLS" | sed '/^$/d' | LC_ALL=C sort -u > "$work/want"
# acl add|remove USER TYPE NAME PATTERN OPERATION...: one kafka-acls run for all the operations on one resource.
acl() {
  local action=$1 user=$2 type=$3 name=$4 pattern=$5 flag force=() ops=() op
  shift 5
  case $type in TOPIC) flag=--topic ;; GROUP) flag=--group ;; *) die "unexpected resource type $type in an ACL of $user" ;; esac
  if [[ $action == remove ]]; then force=(--force); fi
  for op in "$@"; do ops+=(--operation "$op"); done
  admin kafka-acls.sh "--$action" "${force[@]}" --allow-principal "User:$user" "${ops[@]}" "$flag" "$name" \
    --resource-pattern-type "${pattern,,}" >/dev/null || die "could not $action the ACL: $user $* on $type $name ($pattern)"
}
# apply add|remove: the ACL lines on stdin, grouped by user and resource (sorted input keeps a resource's lines together);
# sets APPLIED to their number.
APPLIED=0
apply() {
  local action=$1 user type name pattern op key='' last='' ops=()
  APPLIED=0
  while read -r user type name pattern op; do
    [[ -n $user ]] || continue
    key="$user $type $name $pattern"
    if [[ $key != "$last" && ${#ops[@]} -gt 0 ]]; then
      # shellcheck disable=SC2086 # the key's four fields
      acl "$action" $last "${ops[@]}"
      ops=()
    fi
    last=$key
    ops+=("$op")
    APPLIED=$((APPLIED + 1))
  done
  # shellcheck disable=SC2086 # the key's four fields
  if (( ${#ops[@]} )); then acl "$action" $last "${ops[@]}"; fi
}
apply remove < <(LC_ALL=C comm -23 "$work/have" "$work/want")
dropped=$APPLIED
apply add < <(LC_ALL=C comm -13 "$work/have" "$work/want")
added=$APPLIED
echo "client users: ${wanted[*]:-none}; ACLs: $(wc -l < "$work/want") in place ($added added, $dropped removed)"
