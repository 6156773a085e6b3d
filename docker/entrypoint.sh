#!/bin/sh
# Vigie's container entrypoint (installed as /usr/local/bin/vigie-entrypoint).
#
# Refuses to start, exit 78 (EX_CONFIG) with a message naming the variable, when a secret the
# command needs is missing; then runs the command (`exec "$@"`: it becomes the container's main
# process and receives its signals). Configuration comes only from the environment and from
# secret files: any CERT_* setting may be given as <VAR>_FILE naming a file that holds its value.
set -eu

# ---- the required settings, in one place --------------------------------------------------
# every command: the key that signs sessions and CSRF tokens
REQUIRED_ALWAYS="CERT_SECRET_KEY"
# every `cert` command but `cert`, `cert --help` and `cert --version`: without it a command would
# quietly use a SQLite file in the container instead of the CERT's PostgreSQL database
REQUIRED_CERT="CERT_DATABASE_URL"
# --------------------------------------------------------------------------------------------

EX_CONFIG=78

refuse() {
    echo "vigie-entrypoint: $*" >&2
    exit "$EX_CONFIG"
}

is_set() { # is_set NAME: the variable NAME is set (possibly empty)
    eval "[ -n \"\${$1+set}\" ]"
}

value_of() { # value_of NAME: the value of the variable NAME ("" when unset)
    eval "printf '%s' \"\${$1-}\""
}

# A <VAR>_FILE that is set must name a readable file holding a value (not only blanks).
check_file_variable() {
    name=$1
    path=$(value_of "$name")
    [ -n "$path" ] || refuse "$name is set but empty: name a file, or unset it"
    [ -e "$path" ] || refuse "$name names $path, which does not exist"
    [ -f "$path" ] || refuse "$name names $path, which is not a regular file"
    [ -r "$path" ] || refuse "$name names $path, which cannot be read by uid $(id -u)" \
        "(a Compose secret is a bind mount: the host file must be readable, e.g. mode 0644)"
    grep -q '[^[:space:]]' "$path" || refuse "$name names $path, which is empty"
}

# A required setting: VAR or VAR_FILE, not both (core.config refuses both too).
require() {
    name=$1
    if is_set "${name}_FILE"; then
        [ -z "$(value_of "$name")" ] || refuse "$name and ${name}_FILE are both set: keep one"
        return 0 # the file itself was checked with every other *_FILE
    fi
    [ -n "$(value_of "$name")" ] || refuse "$name is not set: give it, or ${name}_FILE naming" \
        "a file that holds it (with docker/compose.yaml: a secret under docker/secrets/)"
}

# every *_FILE variable of the environment (names only; values may span lines)
for name in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*_FILE\)=.*/\1/p'); do
    if is_set "$name"; then
        check_file_variable "$name"
    fi
done

for name in $REQUIRED_ALWAYS; do
    require "$name"
done

if [ "${1-}" = "cert" ]; then
    case "${2-}" in
        "" | --help | -h | --version) ;;
        *) for name in $REQUIRED_CERT; do require "$name"; done ;;
    esac
fi

[ "$#" -gt 0 ] || refuse "no command given (the image's default is: cert web)"
exec "$@"
