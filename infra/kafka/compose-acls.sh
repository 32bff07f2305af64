#!/bin/bash
# docker compose's kafka-init: grant the ACLs of infra/kafka/acls.txt (no namespace) for every agency in
# the agency directory, as admin, once Kafka is healthy. Idempotent: re-running adds nothing new.
set -euo pipefail

: "${MASH_KAFKA_PASSWORD_ADMIN:?set MASH_KAFKA_PASSWORD_ADMIN}"
cat >/tmp/admin.properties <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$MASH_KAFKA_PASSWORD_ADMIN";
PROPS

agencies="$(awk '/^agencies:/ { inside = 1; next } /^[^ #]/ { inside = 0 }
                 inside && /^  [a-z][a-z0-9-]*:[[:space:]]*$/ { sub(/^  /, ""); sub(/:.*/, ""); print }' /mash/agencies.yaml)"
count=0
while read -r principal resource pattern name operations; do
  for agency in $( [[ "$principal$name" == *"{agency}"* ]] && echo "$agencies" || echo "-" ); do
    who="${principal//\{agency\}/$agency}"
    what="${name//\{ns\}/}"
    what="${what//\{agency\}/$agency}"
    args=(--add --allow-principal "User:$who" --resource-pattern-type "${pattern,,}")
    for operation in ${operations//,/ }; do args+=(--operation "$operation"); done
    case "$resource" in
      TOPIC) args+=(--topic "$what") ;;
      GROUP) args+=(--group "$what") ;;
      *) echo "unknown resource $resource" >&2; exit 2 ;;
    esac
    /opt/kafka/bin/kafka-acls.sh --bootstrap-server kafka:19092 --command-config /tmp/admin.properties "${args[@]}" >/dev/null
    count=$((count + 1))
  done
done < <(sed -e 's/#.*//' /mash/acls.txt | awk 'NF == 5')
echo "kafka-init: $count ACL grants from acls.txt"
