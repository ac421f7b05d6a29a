"""Stand-ins of a test's own, which it may stop and start again (a sink
outage) without disturbing the shared ones other tests use. Started and
stopped with scripts/lib/services.sh, on the same port and data directory
each time, so a restart is the same service coming back."""

import os
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SERVICES = os.path.join(ROOT, "scripts", "lib", "services.sh")


def _bash(script, env=None):
    # -e: a service that fails to start fails here, instead of the next line
    # printing the address of a shared one from the environment.
    out = subprocess.run(["bash", "-ec", f'source "{SERVICES}"\n{script}'], capture_output=True,
                         text=True, timeout=120, env={**os.environ, **(env or {})})
    if out.returncode != 0:
        raise AssertionError(f"{script.strip()} failed:\n{out.stderr.strip()}")
    return out.stdout


class StandIn:
    """kind: "s3rver" (args: buckets), "dynalite" (tables kept on disk),
    "kinesalite" (streams kept on disk) or "postgres". `endpoint` is set by
    the first start and kept."""

    def __init__(self, kind, directory, *args):
        self.kind = kind
        self.dir = directory
        self.args = args
        self.port = None
        self.endpoint = None

    def start(self):
        port = str(self.port or "")
        if self.kind == "s3rver":
            out = _bash(f'kc_start_s3rver "{self.dir}" {" ".join(self.args)} >&2\n'
                        'echo "$KC_S3_ENDPOINT"', env={"KC_S3RVER_PORT": port})
        elif self.kind == "dynalite":
            out = _bash(f'kc_start_dynalite "{self.dir}" "{port}" persist >&2\n'
                        'echo "$KC_DYNAMODB_ENDPOINT"')
        elif self.kind == "kinesalite":
            out = _bash(f'kc_start_kinesalite "{self.dir}" {port} >&2\n'
                        'echo "$KC_KINESIS_ENDPOINT"')
        elif self.kind == "postgres":
            # The server runs as user postgres when the tests run as root:
            # it must be able to enter the directories above its own.
            parent = os.path.dirname(os.path.abspath(self.dir))
            os.makedirs(parent, exist_ok=True)
            os.chmod(parent, os.stat(parent).st_mode | 0o111)
            out = _bash(f'kc_start_postgres "{self.dir}" {port} >&2\necho "$KC_POSTGRES_URL"')
        else:
            raise ValueError(self.kind)
        self.endpoint = out.strip().splitlines()[-1]
        self.port = int(self.endpoint.rsplit(":", 1)[1].split("/")[0])
        return self.endpoint

    def stop(self):
        _bash(f'kc_stop_services "{self.dir}"')
