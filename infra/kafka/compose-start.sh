#!/bin/bash
# docker compose's Kafka (apache/kafka image): SASL/SCRAM-SHA-512 for every client, StandardAuthorizer with
# no access without an ACL, User:admin the only super user; the controller listener authenticated as admin
# (PLAIN). Every principal's SCRAM user is created when the volume is first formatted (from the
# MASH_KAFKA_PASSWORD_<PRINCIPAL> variables), so a volume formatted before needs `docker compose down -v`.
# The ACLs come from infra/kafka/acls.txt, granted by the kafka-init service (compose-acls.sh).
# docker-compose.region.yml adds the region's principals (westshire-intake, police-router-<force>, ...) as more
# MASH_KAFKA_PASSWORD_<PRINCIPAL> variables (a principal's dashes are underscores there) and its own ACL list.
set -euo pipefail

: "${MASH_KAFKA_PASSWORD_ADMIN:?set MASH_KAFKA_PASSWORD_ADMIN}"
admin="$MASH_KAFKA_PASSWORD_ADMIN"
props=/tmp/server.properties

cat >"$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@kafka:9093
listeners=INTERNAL://:19092,HOST://:9092,CONTROLLER://:9093
advertised.listeners=INTERNAL://kafka:19092,HOST://127.0.0.1:${MASH_KAFKA_HOST_PORT:-9092}
listener.security.protocol.map=INTERNAL:SASL_PLAINTEXT,HOST:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
inter.broker.listener.name=INTERNAL
controller.listener.names=CONTROLLER
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$admin" user_admin="$admin";
listener.name.internal.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin";
listener.name.host.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin
log.dirs=/var/lib/kafka/data
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS

# The admin's client settings, for the healthcheck and kafka-init.
cat >/tmp/admin.properties <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin";
PROPS

scram=()
while IFS='=' read -r key value; do
  principal="$(printf '%s' "${key#MASH_KAFKA_PASSWORD_}" | tr 'A-Z_' 'a-z-')"
  scram+=(--add-scram "SCRAM-SHA-512=[name=$principal,password=$value]")
done < <(env | grep '^MASH_KAFKA_PASSWORD_' | sort)

/opt/kafka/bin/kafka-storage.sh format -t "${CLUSTER_ID:?}" -c "$props" --ignore-formatted "${scram[@]}"
exec /opt/kafka/bin/kafka-server-start.sh "$props"
