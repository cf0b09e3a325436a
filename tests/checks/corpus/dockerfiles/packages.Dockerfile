FROM alpine:3.20@sha256:0a4eaa0eecf5f8c050e5bba433f58c052be7587ee8af3e8b3910ef9ab5fbe9f5
RUN apk add --no-cache curl=8.9.1-r0 \
        git \
        "openssl>=3.3" \
    && apk add --virtual .build-deps gcc=13.2.1-r0 make \
    && apk --no-cache add -X https://mirror.example.test/edge/main tini
RUN apk del .build-deps && apk add --no-cache $EXTRA_PACKAGES ./local.apk
RUN apt-get update && apt-get install -y --no-install-recommends \
      ca-certificates=20230311 \
      jq \
      -o Dpkg::Options::=--force-confold \
      tzdata/bookworm \
    && apt install -y vim=2:9.0.1378-2
RUN pip install --no-cache-dir requests==2.32.3 flask "django>=5" \
    -r requirements.txt ./local-package && python3 -m pip install uvicorn[standard]==0.30.1 black
RUN npm install -g typescript@5.5.4 eslint @types/node@20.14.10 @scope/tool prettier@latest \
    && npm ci && npm i left-pad@^1.3.0
# pinwright: ignore=pip-unpinned
RUN pip install httpx
RUN <<EOF
apk add --no-cache bash
pip install rich==13.7.1
EOF
RUN apk add --no-cache tini=0.19.0-r3
