"""The independent oracle for the credentials chain: botocore resolves the
environment and shared files it is run with, against the same stand-ins as
kinesis-connect, and prints the access key id it arrives at (never a
secret). STS and the SSO portal are reached at KC_ORACLE_ENDPOINT: botocore
of this age reads no endpoint variables for them, so the clients its
credential providers create are pointed there; the rest (the order of the
chain, the profile logic, the token files and caches, IMDS and the
container endpoint) is botocore's own.

    python3 credentials_oracle.py [--profile NAME]
"""

import argparse
import os
import sys

import botocore.session


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile")
    args = parser.parse_args()
    endpoint = os.environ["KC_ORACLE_ENDPOINT"]
    session = botocore.session.Session(profile=args.profile)
    create_client = session.create_client

    def redirected(service_name, *a, **kw):
        if service_name in ("sts", "sso"):
            kw["endpoint_url"] = endpoint
        return create_client(service_name, *a, **kw)

    session.create_client = redirected
    credentials = session.get_credentials()
    if credentials is None:
        print("no credentials", file=sys.stderr)
        return 1
    print(credentials.get_frozen_credentials().access_key)
    return 0


if __name__ == "__main__":
    sys.exit(main())
