# synthetic credentials drawn from a seeded PRNG for tests; none was ever issued
import os
import oss2

# decoy: read from environment
auth_env = oss2.Auth(os.environ["OSS_ACCESS_KEY_ID"], os.environ["OSS_ACCESS_KEY_SECRET"])

auth = oss2.Auth(
    'LTAI5t1uhyMDJ2OXtPAtLpBy',
    'QxCGClbaNFDpCWNX0D1lZEzgeiwBxf',
)
bucket = oss2.Bucket(auth, 'https://oss-cn-hangzhou.aliyuncs.com', 'assets')
