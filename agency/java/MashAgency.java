// An agency of the MASH hub that is not the Python kit: a worked example in Java 17 with the Apache Kafka
// Java client (kafka-clients) and Jackson, and nothing else (docs/joining-the-hub-as-an-agency.md).
//
// It reads its agency's enquiry requests (<namespace>.mash.enquiry.request.<agency>) in the consumer group
// <namespace>.agency-<agency>, looks the family up in its records (here: a small table in this file), and
// answers each request with an agency.response event (schemas/json/agency.response.schema.json) on
// <namespace>.mash.agency.response.<agency>, keyed by the referral id as the Python kit keys it.
//
// At least once, answered once: the producer is idempotent with acks=all, a request's offset is committed
// only after its answer is acknowledged by the broker, and the answer's event_id is derived from the
// request id (UUIDv5, as mash_schemas.agency.agency_response_event_id derives it), so a request delivered
// again, or its reminder, yields the very same event and the hub stores it once.
//
// Build and run (the jars are the ones `make up` fetches into .cache/kafka/libs):
//   javac -d .cache/java-agency -cp '.cache/kafka/libs/*' agency/java/MashAgency.java
//   MASH_AGENCY_NAME=health MASH_AGENCY_BOOTSTRAP_SERVERS=127.0.0.1:9094 MASH_AGENCY_USE_TLS=true \
//   MASH_AGENCY_CA_FILE=.cache/run/security/tls/ca.pem MASH_AGENCY_USERNAME=agency-health \
//   MASH_AGENCY_PASSWORD=... java -cp '.cache/java-agency:.cache/kafka/libs/*' MashAgency
//
// Settings (environment variables, the same names as the Python kit's):
//   MASH_AGENCY_NAME                the agency's id in the hub, e.g. health (required)
//   MASH_AGENCY_BOOTSTRAP_SERVERS   host:port,... of the hub's brokers (else MASH_KAFKA_BOOTSTRAP)
//   MASH_AGENCY_NAMESPACE           the hub's topic namespace, if it has one (else MASH_TOPIC_NAMESPACE)
//   MASH_AGENCY_USERNAME / _PASSWORD  the agency's own principal, agency-<agency>, and its password
//   MASH_AGENCY_MECHANISM           SCRAM-SHA-512 (default) or SCRAM-SHA-256
//   MASH_AGENCY_USE_TLS             true: connect over TLS (SASL_SSL)
//   MASH_AGENCY_CA_FILE             PEM bundle of the CA that signed the brokers' certificates (else MASH_KAFKA_CA_FILE)
//
// Exit status: 143 when stopped by SIGTERM (the JVM's status; the clients are closed first), 3 when the broker
// refuses it (authentication or ACLs), 1 on another failure; what was not committed comes again to the next run.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

public final class MashAgency {
    /** The namespace of the hub's derived event ids (mash_schemas.envelope._NAMESPACE). */
    private static final UUID EVENT_ID_NAMESPACE = UUID.fromString("5b0c5d1e-7a57-4c3e-9d7e-3a4d6a5f0b11");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** This example's "records system": family names it knows, and what it holds on them. */
    private static final Map<String, String> RECORDS = Map.of(
            "turner", "Known to the health visiting team: two missed developmental reviews in the last year; "
                    + "the family re-engaged after a home visit.");

    private final String agency;
    private final String namespace;

    private MashAgency(String agency, String namespace) {
        this.agency = agency;
        this.namespace = namespace;
    }

    public static void main(String[] args) {
        String agency = required("MASH_AGENCY_NAME");
        if (!agency.matches("^[a-z][a-z0-9-]{1,39}$")) {
            fail(2, "MASH_AGENCY_NAME " + agency + " is not an agency id (^[a-z][a-z0-9-]{1,39}$)");
        }
        String namespace = setting("MASH_AGENCY_NAMESPACE", "MASH_TOPIC_NAMESPACE", "");
        int status;
        try {
            status = new MashAgency(agency, namespace).run(connection());
        } catch (AuthenticationException | AuthorizationException refused) {
            log("refused by the broker: " + refused.getClass().getSimpleName() + ": " + refused.getMessage());
            status = 3;
        }
        if (status != 0) {
            System.exit(status); // not after a SIGTERM (status 0): the JVM is already exiting (143), exit would block
        }
    }

    private String topic(String name) {
        return namespace.isEmpty() ? name : namespace + "." + name;
    }

    /** Answer requests until stopped; returns the exit status (a refusal by the broker is thrown). */
    private int run(Properties connection) {
        String requests = topic("mash.enquiry.request." + agency);
        String responses = topic("mash.agency.response." + agency);
        String group = topic("agency-" + agency);

        Properties consumerConfig = new Properties();
        consumerConfig.putAll(connection);
        consumerConfig.put("client.id", "mash-agency-java-" + agency);
        consumerConfig.put("group.id", group);
        consumerConfig.put("enable.auto.commit", "false"); // committed only after the answers are sent
        consumerConfig.put("auto.offset.reset", "earliest");
        consumerConfig.put("allow.auto.create.topics", "false"); // the hub creates the topics
        consumerConfig.put("key.deserializer", ByteArrayDeserializer.class.getName());
        consumerConfig.put("value.deserializer", ByteArrayDeserializer.class.getName());

        Properties producerConfig = new Properties();
        producerConfig.putAll(connection);
        producerConfig.put("client.id", "mash-agency-java-" + agency);
        producerConfig.put("acks", "all");
        producerConfig.put("enable.idempotence", "true");
        producerConfig.put("key.serializer", StringSerializer.class.getName());
        producerConfig.put("value.serializer", ByteArraySerializer.class.getName());

        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerConfig);
             KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerConfig)) {
            Thread main = Thread.currentThread();
            Thread stop = new Thread(() -> { // SIGTERM: finish the batch in hand, close the clients, then exit
                consumer.wakeup(); // ends the poll below with a WakeupException
                try {
                    main.join(30_000);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            });
            Runtime.getRuntime().addShutdownHook(stop);
            consumer.subscribe(List.of(requests));
            log("agency " + agency + " reading " + requests + " in group " + group + ", answering on " + responses);
            try {
                while (true) {
                    var records = consumer.poll(Duration.ofSeconds(1));
                    if (records.isEmpty()) {
                        continue;
                    }
                    List<Future<RecordMetadata>> sent = new ArrayList<>();
                    Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
                    for (ConsumerRecord<byte[], byte[]> record : records) {
                        ObjectNode response = respond(record);
                        if (response != null) {
                            String key = response.get("payload").get("referral_id").asText();
                            ProducerRecord<String, byte[]> answer =
                                    new ProducerRecord<>(responses, key, JSON.writeValueAsBytes(response));
                            answer.headers().add("content-type", "application/json".getBytes(StandardCharsets.UTF_8));
                            sent.add(producer.send(answer));
                        }
                        next.put(new TopicPartition(record.topic(), record.partition()),
                                 new OffsetAndMetadata(record.offset() + 1));
                    }
                    for (Future<RecordMetadata> acknowledged : sent) {
                        acknowledged.get(); // throws if the broker did not take the answer: nothing is committed
                    }
                    try {
                        consumer.commitSync(next);
                    } catch (CommitFailedException | RebalanceInProgressException moved) {
                        // The partitions moved to another copy meanwhile: it reads these requests again and sends
                        // the very same answers (same event ids), which the hub recognises.
                        log("could not commit (" + moved.getClass().getSimpleName() + "); the requests will be read again");
                    }
                }
            } catch (WakeupException stopping) {
                log("stopping");
                return 0;
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(stop); // not when the JVM is already shutting down
                } catch (IllegalStateException shuttingDown) {
                    // the hook is what stopped us
                }
            }
        } catch (AuthenticationException | AuthorizationException refused) {
            throw refused;
        } catch (KafkaException | java.io.IOException | InterruptedException e) {
            log("stopped on " + e);
            return 1;
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof AuthenticationException refused) {
                throw refused;
            }
            if (e.getCause() instanceof AuthorizationException refused) {
                throw refused;
            }
            log("an answer was not sent (" + e.getCause() + "); its request will be delivered again");
            return 1;
        }
    }

    /** The agency.response event answering the request in `record`, or null for a message to skip. */
    private ObjectNode respond(ConsumerRecord<byte[], byte[]> record) {
        String origin = record.topic() + "[" + record.partition() + "]@" + record.offset();
        JsonNode event;
        try {
            event = record.value() == null ? null : JSON.readTree(record.value());
        } catch (java.io.IOException notJson) {
            log("skipping unreadable enquiry request at " + origin);
            return null;
        }
        // A tolerant reader: properties it does not know are ignored; a newer schema version it cannot read.
        if (event == null || !"enquiry.request".equals(event.path("event_type").asText())
                || !event.path("payload").isObject()) {
            log("skipping a message that is no enquiry request at " + origin);
            return null;
        }
        if (event.path("schema_version").asInt(1) != 1) {
            log("skipping enquiry request at " + origin + ": schema_version "
                    + event.path("schema_version") + " is newer than this agency reads");
            return null;
        }
        JsonNode request = event.get("payload");
        String requestId = request.path("request_id").asText();
        for (String field : List.of("request_id", "enquiry_id", "referral_id")) {
            if (request.path(field).asText().isBlank()) {
                log("skipping unreadable enquiry request at " + origin + ": no " + field);
                return null;
            }
        }
        if (!agency.equals(request.path("agency").asText())) {
            log("skipping request " + requestId + " at " + origin + ": addressed to "
                    + request.path("agency").asText() + ", this agency is " + agency);
            return null;
        }

        String now = Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
        ObjectNode answer = JSON.createObjectNode();
        answer.put("request_id", requestId);
        answer.put("enquiry_id", request.path("enquiry_id").asText());
        answer.put("referral_id", request.path("referral_id").asText());
        answer.put("agency", agency);
        answer.put("responded_by", agency + " (Java agency)");
        answer.put("responded_at", now);
        var items = answer.putArray("items");
        List<JsonNode> people = new ArrayList<>();
        request.path("subjects").forEach(people::add);
        request.path("household").forEach(people::add);
        for (JsonNode person : people) {
            String family = person.path("family_name").asText();
            String held = RECORDS.get(family.toLowerCase(Locale.ROOT));
            if (held != null) {
                String about = (person.path("given_name").asText("") + " " + family).strip();
                ObjectNode item = items.addObject();
                item.put("item_id", (agency + "-java-" + items.size()));
                item.put("about", about);
                item.put("summary", held);
                item.put("sensitivity", "non_sensitive");
                item.put("rating_reason", "Missed health appointments for a child");
            }
        }
        answer.put("outcome", items.isEmpty() ? "nothing_known" : "information_held");
        if (!items.isEmpty()) {
            answer.put("rating", "green");
        }

        ObjectNode response = JSON.createObjectNode();
        response.put("event_type", "agency.response");
        response.put("schema_version", 1);
        response.put("event_id", responseEventId(requestId, agency).toString());
        response.put("occurred_at", now);
        response.put("correlation_id", request.path("referral_id").asText());
        response.put("producer", "agency:" + agency);
        if (event.path("event_id").isTextual()) {
            response.put("causation_id", event.get("event_id").asText());
        }
        response.set("payload", answer);
        log("answering request " + requestId + " (reminder " + request.path("reminder_number").asInt(0)
                + ") for referral " + request.path("referral_id").asText() + ": " + answer.get("outcome").asText()
                + ", " + items.size() + " item(s)");
        return response;
    }

    /** mash_schemas.agency.agency_response_event_id: UUIDv5 of "<request id>/agency.response/<agency>". */
    static UUID responseEventId(String requestId, String agency) {
        return uuid5(EVENT_ID_NAMESPACE, requestId + "/agency.response/" + agency);
    }

    /** RFC 4122 name-based UUID, version 5 (SHA-1); the JDK has only version 3. */
    static UUID uuid5(UUID namespace, String name) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            sha1.update(ByteBuffer.allocate(16).putLong(namespace.getMostSignificantBits())
                    .putLong(namespace.getLeastSignificantBits()).array());
            byte[] hash = sha1.digest(name.getBytes(StandardCharsets.UTF_8));
            hash[6] = (byte) ((hash[6] & 0x0f) | 0x50); // version 5
            hash[8] = (byte) ((hash[8] & 0x3f) | 0x80); // IETF variant
            ByteBuffer bytes = ByteBuffer.wrap(hash, 0, 16);
            return new UUID(bytes.getLong(), bytes.getLong());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The client settings both the consumer and the producer use: brokers, SASL/SCRAM, TLS. */
    private static Properties connection() {
        Properties config = new Properties();
        config.put("bootstrap.servers", setting("MASH_AGENCY_BOOTSTRAP_SERVERS", "MASH_KAFKA_BOOTSTRAP", "localhost:9092"));
        boolean tls = Boolean.parseBoolean(setting("MASH_AGENCY_USE_TLS", null, "false"));
        String username = setting("MASH_AGENCY_USERNAME", null, "");
        if (!username.isEmpty()) {
            String password = required("MASH_AGENCY_PASSWORD");
            config.put("security.protocol", tls ? "SASL_SSL" : "SASL_PLAINTEXT");
            config.put("sasl.mechanism", setting("MASH_AGENCY_MECHANISM", null, "SCRAM-SHA-512"));
            config.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                    + jaasQuoted(username) + "\" password=\"" + jaasQuoted(password) + "\";");
        } else {
            config.put("security.protocol", tls ? "SSL" : "PLAINTEXT");
        }
        String caFile = setting("MASH_AGENCY_CA_FILE", "MASH_KAFKA_CA_FILE", "");
        if (tls && !caFile.isEmpty()) {
            config.put("ssl.truststore.type", "PEM");
            config.put("ssl.truststore.location", caFile);
        }
        return config;
    }

    private static String jaasQuoted(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private static String setting(String name, String fallback, String otherwise) {
        String value = System.getenv(name);
        if ((value == null || value.isBlank()) && fallback != null) {
            value = System.getenv(fallback);
        }
        return value == null || value.isBlank() ? otherwise : value.strip();
    }

    private static String required(String name) {
        String value = setting(name, null, "");
        if (value.isEmpty()) {
            fail(2, name + " is not set");
        }
        return value;
    }

    private static void log(String line) {
        System.out.println(Instant.now() + " mash-agency-java " + line);
        System.out.flush();
    }

    private static void fail(int status, String why) {
        log(why);
        System.exit(status);
    }
}
