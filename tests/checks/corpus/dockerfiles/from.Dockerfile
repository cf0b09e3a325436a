# syntax=docker/dockerfile:1.7
ARG BASE=alpine:3.20
ARG PINNED=alpine:3.20@sha256:0a4eaa0eecf5f8c050e5bba433f58c052be7587ee8af3e8b3910ef9ab5fbe9f5
ARG NODEFAULT
FROM --platform=$BUILDPLATFORM golang:1.22 AS build
FROM build AS test
FROM ${BASE} AS runtime
FROM $PINNED
FROM scratch
FROM ubuntu:latest
FROM docker.io/library/debian:12@sha256:b37bc259c67238d814516548c17ad912f26c3eed48dd9bb54893eafec8739c89
FROM registry.example.test:5000/team/app
FROM ${NODEFAULT}
FROM ${UNDECLARED:-busybox:1.36}
FROM Runtime
# pinwright: ignore=from-latest
FROM nginx:latest
