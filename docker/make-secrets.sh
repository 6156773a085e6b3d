#!/bin/sh
# Creates the secret files docker/compose.yaml mounts, each a fresh random value, never
# overwriting one that exists (the database was initialised with its password, and sessions are
# signed with the key): sh docker/make-secrets.sh [DIRECTORY]   (default: docker/secrets)
#
# The directory is private to you (0700); the files are 0644 because a Compose file secret is a
# bind mount that keeps the host file's owner and mode, and the containers read them as other
# users (Vigie uid 10001, PostgreSQL uid 999): outside the container, the directory keeps them
# private.
set -eu

directory=${1:-$(dirname "$0")/secrets}

random_value() { # 48 random bytes as 96 hexadecimal digits (URL-safe, >= 32 characters)
    od -An -N48 -tx1 /dev/urandom | tr -d ' \n'
}

mkdir -p "$directory"
chmod 0700 "$directory"
for name in secret_key postgres_password metrics_token; do
    path=$directory/$name
    if [ -s "$path" ]; then
        echo "$path: kept"
        continue
    fi
    (umask 077 && random_value >"$path")
    chmod 0644 "$path"
    echo "$path: created"
done
