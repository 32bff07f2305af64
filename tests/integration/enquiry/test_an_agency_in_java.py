"""An agency that is not the Python kit: agency/java/MashAgency.java (the Apache Kafka Java client and Jackson)
answers a real enquiry, over the TLS listener, as its own principal.

The program is compiled once for the module with the JDK's javac against the Kafka jars `make up` fetched
(.cache/kafka/libs), into .cache/java-agency, and run as `java MashAgency` with the settings an agency would
give it: the hub's TLS bootstrap, the stack's CA as a PEM truststore, and SCRAM-SHA-512 as `agency-health`
with the ACLs the hub grants on this test's namespace (infra/kafka/acls.txt). The hub's enquiry service runs
in this process, as in the other enquiry tests; what the Java agency sent is read back from the topics. The
request delivered again gets the very same answer (the event id the Python kit would derive), and the
broker refuses the program the police's requests when it runs as health.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from mash_enquiry.settings import EnquirySettings
from mash_schemas import AgencyResponded
from mash_schemas.agency import agency_response_event_id
from mash_schemas.topics import ENQUIRY_COMPLETED, agency_response_topic, enquiry_request_topic

from demo.kafka_access import KafkaAccess, agency_principal
from tests.integration.enquiry.conftest import REPO, an_enquiry, committed, namespaced, open_enquiry, running_desk, true
from tests.support.infrastructure import Infrastructure
from tests.support.topics import TopicRecorder, produce_raw
from tests.support.waiting import eventually

AGENCY = "health"
SOURCE = REPO / "agency" / "java" / "MashAgency.java"
CACHE = Path(os.environ.get("MASH_CACHE_DIR") or REPO / ".cache")
KAFKA_LIBS = Path(os.environ.get("MASH_JARS_DIR") or CACHE) / "kafka" / "libs"


@pytest.fixture
def access() -> KafkaAccess:
    """The secured stack's principals and its TLS listener; this test is about exactly those."""
    found = KafkaAccess.from_environment()
    if found is None or found.tls_bootstrap is None or found.ca_file is None:
        pytest.fail("no Kafka credentials or TLS listener: this test needs the secured broker of infra/stack.sh "
                    "(its <cache>/run/kafka-credentials.env, or MASH_KAFKA_CREDENTIALS)", pytrace=False)
    return found


@pytest.fixture(scope="module")
def java_agency() -> Path:
    """agency/java/MashAgency.java compiled (once for the module) into .cache/java-agency."""
    javac = shutil.which("javac")
    if javac is None:
        pytest.fail("no javac on PATH: the Java agency needs a JDK 17 or later", pytrace=False)
    if not any(KAFKA_LIBS.glob("kafka-clients-*.jar")):
        pytest.fail(f"no kafka-clients jar in {KAFKA_LIBS}: run `make up` (it fetches the Kafka jars)", pytrace=False)
    classes = CACHE / "java-agency"
    classes.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([javac, "-Xlint:all", "-Werror", "-d", str(classes), "-cp", f"{KAFKA_LIBS}/*",
                             str(SOURCE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"javac failed:\n{result.stdout}{result.stderr}"
    return classes


class JavaAgency:
    """`java MashAgency` as its own OS process, its output in a log file."""

    def __init__(self, classes: Path, env: dict[str, str], log_path: Path) -> None:
        java = shutil.which("java")
        assert java is not None, "no java on PATH"
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [java, "-cp", f"{classes}{os.pathsep}{KAFKA_LIBS}/*", "MashAgency"],
                env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
        self.log_path = log_path

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.proc.poll() is None

    def log(self) -> str:
        """Everything the process has written so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        """SIGTERM (the program closes its clients), SIGKILL if it does not go; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return self.proc.returncode


def agency_env(access: KafkaAccess, namespace: str, agency: str, principal: str) -> dict[str, str]:
    """What an agency sets to run the Java program: TLS listener, CA, namespace, its principal and password."""
    assert access.tls_bootstrap is not None and access.ca_file is not None
    return {
        "MASH_AGENCY_NAME": agency,
        "MASH_AGENCY_BOOTSTRAP_SERVERS": access.tls_bootstrap,
        "MASH_AGENCY_USE_TLS": "true",
        "MASH_AGENCY_CA_FILE": str(access.ca_file),
        "MASH_AGENCY_NAMESPACE": namespace,
        "MASH_AGENCY_USERNAME": principal,
        "MASH_AGENCY_PASSWORD": access.password(principal),
        "MASH_AGENCY_MECHANISM": "SCRAM-SHA-512",
    }


@pytest.fixture
def started() -> Iterator[list[JavaAgency]]:
    """The Java agency processes a test starts, stopped at its end whatever happens."""
    processes: list[JavaAgency] = []
    try:
        yield processes
    finally:
        for process in processes:
            process.stop()


async def test_a_java_agency_answers_an_enquiry_over_tls_as_its_own_principal(
    infrastructure: Infrastructure, namespace: str, access: KafkaAccess, desk_settings: EnquirySettings,
    java_agency: Path, started: list[JavaAgency], artefacts: Path,
) -> None:
    bootstrap = infrastructure.kafka_bootstrap
    await access.grant(bootstrap, namespace)
    request_topic = namespaced(namespace, enquiry_request_topic(AGENCY))
    response_topic = namespaced(namespace, agency_response_topic(AGENCY))
    completed_topic = namespaced(namespace, ENQUIRY_COMPLETED)
    referral = f"ref-{uuid.uuid4().hex[:10]}"

    recorder = TopicRecorder(bootstrap, [request_topic, response_topic, completed_topic])
    async with running_desk(desk_settings), recorder.running():  # the desk creates the agencies' topics
        agency = JavaAgency(java_agency, agency_env(access, namespace, AGENCY, agency_principal(AGENCY)),
                            artefacts / "java-agency-health.log")
        started.append(agency)
        await open_enquiry(bootstrap, namespace, an_enquiry(referral, [AGENCY], due_in=600))

        async def completed() -> bool:
            assert agency.running, f"the Java agency exited with {agency.proc.returncode}:\n{agency.log()}"
            return len(recorder.on(completed_topic)) == 1

        await eventually(completed, timeout=90, what="the enquiry completed with the Java agency's answer")
        # Offsets are committed once the answer is acknowledged: the group has the one request behind it.
        group = namespaced(namespace, f"agency-{AGENCY}")
        await eventually(lambda: _committed(bootstrap, group, request_topic, 1), timeout=30,
                         what="the Java agency committing the request it answered")
        # The same request delivered again (as after a crash before the commit) gets the very same answer.
        [first] = recorder.on(request_topic)
        await produce_raw(bootstrap, request_topic, first.value, key=referral.encode())
        await eventually(lambda: true(len(recorder.on(response_topic)) == 2), timeout=60,
                         what="the Java agency answering the redelivered request")
        await eventually(lambda: _committed(bootstrap, group, request_topic, 2), timeout=30,
                         what="the Java agency committing the redelivered request")
        assert agency.stop() == 143, agency.log()  # the JVM's status after SIGTERM: 128 + 15
    assert "mash-agency-java stopping" in agency.log()  # it closed its clients and stopped

    request = recorder.on(request_topic)[0]
    request_id = request.json()["payload"]["request_id"]
    answer, again = recorder.on(response_topic)
    assert again.key == answer.key
    assert again.json()["event_id"] == answer.json()["event_id"]  # one answer, however often it is sent
    assert answer.key == referral
    response = AgencyResponded.model_validate_json(answer.value)  # the contract's own model, strictly
    assert response.event_id == agency_response_event_id(request_id, AGENCY)  # the kit's id, derived in Java
    assert response.producer == f"agency:{AGENCY}"
    assert str(response.causation_id) == request.json()["event_id"]
    assert response.payload.request_id == request_id
    assert response.payload.responded_by == f"{AGENCY} (Java agency)"

    [outcome] = [record.json()["payload"] for record in recorder.on(completed_topic)]
    assert outcome["referral_id"] == referral
    assert outcome["completion"] == "all_answered"
    [findings] = outcome["findings"]
    assert findings["agency"] == AGENCY
    assert findings["outcome"] == "information_held"
    assert findings["rating"] == "green"
    # The program's records hold the Turners: one item each for Kai, his mother and his father.
    assert sorted(item["about"] for item in findings["items"]) == ["Dean Turner", "Kai Turner", "Leanne Turner"]
    assert f"answering request {request_id}" in agency.log()


async def _committed(bootstrap: str, group: str, topic: str, count: int) -> bool:
    return await committed(bootstrap, group, topic) == count


async def test_the_broker_refuses_the_java_agency_another_agencys_requests(
    infrastructure: Infrastructure, namespace: str, access: KafkaAccess, desk_settings: EnquirySettings,
    java_agency: Path, started: list[JavaAgency], artefacts: Path,
) -> None:
    await access.grant(infrastructure.kafka_bootstrap, namespace)
    async with running_desk(desk_settings):  # the police request topic exists: only the ACLs stand in the way
        # Health's principal, asking for the police's requests (in the police's group): the broker says no.
        agency = JavaAgency(java_agency, agency_env(access, namespace, "police", agency_principal(AGENCY)),
                            artefacts / "java-agency-as-police.log")
        started.append(agency)
        await eventually(lambda: true(not agency.running), timeout=60, what="the Java agency refused and exiting")
    assert agency.proc.returncode == 3, agency.log()
    assert "refused by the broker" in agency.log()
    assert "AuthorizationException" in agency.log()
