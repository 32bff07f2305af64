// Creates SCRAM-SHA-512 users and allow-ACLs on the native stack's broker, from a spec file, as the
// super user. infra/stack.sh compiles it once (javac, against the broker's own jars) and runs it after
// every start; `infra/stack.sh acls <namespace>` runs it for a namespace's topics and groups.
//
//   java -cp '<libs>/*:<classes>' Security <bootstrap> <admin-user> <admin-password-file> <spec-file>
//
// Spec lines (blank lines and # comments ignored):
//   user  <name> <password>
//   allow <principal> <TOPIC|GROUP|CLUSTER> <LITERAL|PREFIXED> <resource-name> <OPERATION[,OPERATION...]>
// Both are idempotent: a user is upserted, an ACL that exists already is left as it is.

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class Security {
    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: Security <bootstrap> <admin-user> <admin-password-file> <spec-file>");
            System.exit(2);
        }
        String password = Files.readString(Path.of(args[2]), StandardCharsets.UTF_8).strip();
        Properties props = new Properties();
        props.put("bootstrap.servers", args[0]);
        props.put("security.protocol", "SASL_PLAINTEXT");
        props.put("sasl.mechanism", "SCRAM-SHA-512");
        props.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                + args[1] + "\" password=\"" + password + "\";");
        props.put("default.api.timeout.ms", "120000");
        props.put("request.timeout.ms", "60000");

        List<UserScramCredentialAlteration> users = new ArrayList<>();
        List<AclBinding> acls = new ArrayList<>();
        int number = 0;
        for (String raw : Files.readAllLines(Path.of(args[3]), StandardCharsets.UTF_8)) {
            number++;
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\\s+");
            if (f[0].equals("user") && f.length == 3) {
                users.add(new UserScramCredentialUpsertion(
                        f[1], new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), f[2]));
            } else if (f[0].equals("allow") && f.length == 6) {
                ResourcePattern pattern = new ResourcePattern(
                        ResourceType.fromString(f[2]), f[4], PatternType.fromString(f[3]));
                for (String operation : f[5].split(",")) {
                    acls.add(new AclBinding(pattern, new AccessControlEntry(
                            "User:" + f[1], "*", AclOperation.fromString(operation), AclPermissionType.ALLOW)));
                }
            } else {
                System.err.println(args[3] + ":" + number + ": not a user or allow line");
                System.exit(2);
            }
        }
        try (Admin admin = Admin.create(props)) {
            if (!users.isEmpty()) {
                admin.alterUserScramCredentials(users).all().get();
            }
            if (!acls.isEmpty()) {
                admin.createAcls(acls).all().get();
            }
        }
        System.out.println("security: " + users.size() + " user(s), " + acls.size() + " ACL(s)");
    }
}
