// Runs mongo-java-server with its H2 (MVStore) file backend: the MongoDB-wire-protocol server of the
// native stack. Started by infra/stack.sh as a single source file (no build step):
//
//   java -cp '<libs>/*' infra/mongo/Launcher.java 127.0.0.1 27017 .cache/run/mongo-data/mongo.mv
//
// The server serialises writes per collection, so a filtered update is atomic as on MongoDB. It
// reports itself as MongoDB 5.0 (wire version 13): the library's default (3.6, wire 6) is below what
// PyMongo 4.x accepts. On SIGTERM/SIGINT the shutdown hook stops listening and closes the store, so
// the MVStore file is committed and closed cleanly; data persists across restarts.

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

public final class Launcher {
    /** MongoDB 5.0, wire version 13 (PyMongo 4.x needs at least 7; 13 is what was measured). */
    enum Version implements MongoVersion {
        MONGO_5_0_WIRE_13;

        @Override
        public List<Integer> getVersionArray() {
            return List.of(5, 0, 0);
        }

        @Override
        public int getWireVersion() {
            return 13;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: java -cp '<libs>/*' Launcher.java HOST PORT FILE.mv");
            System.exit(2);
        }
        // slf4j-simple reads these when the first logger is made, i.e. below; -D on the command line wins.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
                System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        Path file = Path.of(args[2]).toAbsolutePath();
        Files.createDirectories(file.getParent());

        H2Backend backend = new H2Backend(file.toString());
        backend.version(Version.MONGO_5_0_WIRE_13);
        MongoServer server = new MongoServer(backend);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("mongo-java-server: shutting down, closing " + file);
            server.shutdown(); // stops listening, closes connections, then closes the backend (MVStore)
            System.out.println("mongo-java-server: stopped");
        }, "mongo-shutdown"));
        server.bind(host, port);
        long upMillis = ManagementFactory.getRuntimeMXBean().getUptime();
        System.out.printf("mongo-java-server ready on %s:%d (data %s, wire version %d, %.1f s after JVM start)%n",
                host, port, file, Version.MONGO_5_0_WIRE_13.getWireVersion(), upMillis / 1000.0);
    }
}
