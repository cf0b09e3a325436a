# escape=`
FROM registry.example.test/windows/servercore:ltsc2022
RUN apk add `
      # a comment inside the instruction

      busybox
run pip3 install --user `
      "requests~=2.32"
