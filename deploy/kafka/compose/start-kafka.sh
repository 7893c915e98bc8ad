#!/usr/bin/env bash
# Kafka for docker-compose: the official apache/kafka image, configured like
# the embedded stack (KRaft single node, SCRAM-SHA-512 on client listeners,
# StandardAuthorizer with deny by default, broker and admin as super users).
# Storage is formatted once, with the broker's and admin's SCRAM users.
set -euo pipefail

: "${OBSHUB_BROKER_PASSWORD:?set OBSHUB_BROKER_PASSWORD (see deploy/compose.env.example)}"
: "${OBSHUB_ADMIN_PASSWORD:?set OBSHUB_ADMIN_PASSWORD (see deploy/compose.env.example)}"
DATA=/var/lib/kafka/data
CONF=/var/lib/kafka/server.properties
HOST_PORT="${OBSHUB_KAFKA_HOST_PORT:-9092}"

cat > "$CONF" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=localhost:9093
listeners=INTERNAL://0.0.0.0:29092,HOST://0.0.0.0:9092,CONTROLLER://localhost:9093
advertised.listeners=INTERNAL://kafka:29092,HOST://localhost:${HOST_PORT}
listener.security.protocol.map=INTERNAL:SASL_PLAINTEXT,HOST:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
inter.broker.listener.name=INTERNAL
controller.listener.names=CONTROLLER
listener.name.internal.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.host.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.internal.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="${OBSHUB_BROKER_PASSWORD}";
listener.name.host.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="${OBSHUB_BROKER_PASSWORD}";
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="${OBSHUB_BROKER_PASSWORD}" user_broker="${OBSHUB_BROKER_PASSWORD}";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:broker;User:admin
allow.everyone.if.no.acl.found=false
log.dirs=${DATA}
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
group.initial.rebalance.delay.ms=0
PROPS
chmod 600 "$CONF"

if [ ! -f "$DATA/meta.properties" ]; then
  /opt/kafka/bin/kafka-storage.sh format --standalone \
    -t "$(/opt/kafka/bin/kafka-storage.sh random-uuid)" -c "$CONF" \
    --add-scram "SCRAM-SHA-512=[name=broker,password=${OBSHUB_BROKER_PASSWORD}]" \
    --add-scram "SCRAM-SHA-512=[name=admin,password=${OBSHUB_ADMIN_PASSWORD}]"
fi
exec /opt/kafka/bin/kafka-server-start.sh "$CONF"
