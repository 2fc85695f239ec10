"""Creates an IAM user with a Secrets Manager policy and an access key on a moto server
started with INITIAL_NO_AUTH_ACTION_COUNT=3 (its first three requests are unauthenticated;
every later request must carry a valid SigV4 signature). Prints `KEY_ID SECRET_KEY`.

The key id is drawn again (with the key itself, signed) until it is in AWS's real key-id
alphabet (AKIA + base32): moto also draws 0, 1, 8 and 9, which no real key id holds and
which leaksweep's aws-access-key-id rule rightly refuses, so validation tests (`scan
--validate`) could not find the key in a file.

Usage: python moto_iam_setup.py http://127.0.0.1:5001
"""
import json
import re
import sys

import boto3

endpoint = sys.argv[1]
iam = boto3.client(
    "iam",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="AKIASETUPSETUPSETUP0",
    aws_secret_access_key="setup-only",
)
iam.create_user(UserName="leaksweep-rotator")
iam.put_user_policy(
    UserName="leaksweep-rotator",
    PolicyName="secretsmanager",
    PolicyDocument=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
                {
                    "Effect": "Allow",
                    "Action": ["iam:CreateAccessKey", "iam:DeleteAccessKey"],
                    "Resource": "*",
                },
            ],
        }
    ),
)
key = iam.create_access_key(UserName="leaksweep-rotator")["AccessKey"]
for _ in range(100):
    if re.fullmatch(r"AKIA[A-Z2-7]{16}", key["AccessKeyId"]):
        break
    signed = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )
    new = signed.create_access_key(UserName="leaksweep-rotator")["AccessKey"]
    signed.delete_access_key(UserName="leaksweep-rotator", AccessKeyId=key["AccessKeyId"])
    key = new
else:
    sys.exit("moto drew no access key id in the AKIA + base32 alphabet in 100 tries")
print(key["AccessKeyId"], key["SecretAccessKey"])
