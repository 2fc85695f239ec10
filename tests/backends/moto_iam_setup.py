"""Creates an IAM user with a Secrets Manager policy and an access key on a moto server
started with INITIAL_NO_AUTH_ACTION_COUNT=3 (its first three requests are unauthenticated;
every later request must carry a valid SigV4 signature). Prints `KEY_ID SECRET_KEY`.

Usage: python moto_iam_setup.py http://127.0.0.1:5001
"""
import json
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
            "Statement": [{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}],
        }
    ),
)
key = iam.create_access_key(UserName="leaksweep-rotator")["AccessKey"]
print(key["AccessKeyId"], key["SecretAccessKey"])
