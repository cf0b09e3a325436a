FROM alpine:3.20@sha256:0a4eaa0eecf5f8c050e5bba433f58c052be7587ee8af3e8b3910ef9ab5fbe9f5
ADD https://example.test/tool.tar.gz /tmp/
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.test/tool.tar.gz /tmp/
ADD --chown=1000 ["https://example.test/other.tar.gz", "/tmp/"]
ADD https://github.example.test/project.git /src
ADD local.tar.gz /opt/
RUN curl -fsSLo /tmp/tool.tgz https://example.test/tool.tgz \
    && echo "24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d  /tmp/tool.tgz" | sha256sum -c - \
    && tar -xzf /tmp/tool.tgz
RUN wget -q -O /tmp/x https://example.test/x && chmod +x /tmp/x
RUN curl -fsSL https://example.test/install.sh | sh
RUN curl -fsSLO https://example.test/a.tgz && curl -fsSLO https://example.test/a.tgz.asc \
    && gpg --verify a.tgz.asc a.tgz
# pinwright: ignore=download-unverified
RUN curl -fsSLO https://example.test/b.tgz
RUN echo "no download here: https://example.test/c.tgz"
RUN git clone --depth 1 --branch v1.2.3 https://example.test/app.git /src && make -C /src
RUN git -c advice.detachedHead=false clone --branch v1.2.3 https://example.test/app.git /src \
    && test "$(git -C /src rev-parse HEAD)" = "0123456789abcdef0123456789abcdef01234567"
RUN git clone https://example.test/app.git /src && git -C /src checkout 0123456789abcdef0123456789abcdef01234567
