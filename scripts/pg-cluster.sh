#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests: initdb, start, create database `loy`, print its URL.
#
#   scripts/pg-cluster.sh start DIR   new cluster in DIR (must be absent or empty); prints the URL
#   scripts/pg-cluster.sh url DIR     prints the URL of the cluster in DIR again
#   scripts/pg-cluster.sh stop DIR    stops the cluster and removes DIR
#
# The server listens on a unix socket inside DIR and on 127.0.0.1 at a free port, with trust
# authentication (it is reachable only from this machine and lives for one test run), fsync on,
# and the C locale so that text sorts bytewise as in SQLite. Run as root (the server then runs as
# user `postgres`, since initdb refuses root) or as any other user (the server runs as that user).
# Installs Debian's postgresql if initdb is missing. Only the URL goes to stdout; progress and
# errors go to stderr. Needs no systemd.
set -euo pipefail

die() {
	echo "pg-cluster: $*" >&2
	exit 1
}

usage() {
	sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
dir=$2
[ -n "$dir" ] || usage
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
dir=${dir%/}
[ -n "$dir" ] || die "refusing to use / as the cluster directory"
marker="$dir/.loy-pg-cluster"

# Runs a command as the server's user, from / so that an unreadable working directory (a checkout
# under /root) does not trouble initdb or pg_ctl.
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}

find_bin() {
	local d
	for d in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -Vr); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

install_postgres() {
	[ "$(id -u)" -eq 0 ] || die "PostgreSQL is not installed and installing it needs root"
	echo "pg-cluster: installing postgresql (apt-get)" >&2
	# Keep apt from starting the distribution's own cluster: a policy-rc.d that says no (101),
	# only for this install and only when the machine has none of its own.
	local policy=/usr/sbin/policy-rc.d made=
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# temporary, from loy scripts/pg-cluster.sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		made=1
	fi
	local rc=0
	{
		DEBIAN_FRONTEND=noninteractive apt-get update -q &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql
	} >&2 || rc=$?
	[ -z "$made" ] || rm -f "$policy"
	[ $rc -eq 0 ] || die "apt-get install postgresql failed"
}

# True when something already accepts TCP connections on 127.0.0.1:$1.
port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
	local p i
	for i in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		if ! port_busy "$p"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# The data directory: DIR/data, unless the server's user cannot reach DIR (a checkout under /root)
# or the socket path would pass the kernel's 107-byte limit; then a directory under /tmp, linked
# from DIR/data so that `stop` finds and removes it.
make_datadir() {
	local data="$dir/data"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres "$dir"
	fi
	if [ ${#dir} -lt 80 ] && as_pg test -w "$dir"; then
		as_pg mkdir -m 700 "$data"
	else
		local tmp
		tmp=$(mktemp -d /tmp/loy-pg.XXXXXX)
		chmod 700 "$tmp"
		[ "$(id -u)" -ne 0 ] || chown postgres "$tmp"
		ln -s "$tmp" "$data"
	fi
}

datadir() {
	readlink -f "$dir/data"
}

is_running() {
	[ -e "$dir/data/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$(datadir)" status >/dev/null 2>&1
}

cmd_start() {
	if [ -f "$marker" ] && [ -f "$dir/url" ] && is_running; then
		cat "$dir/url"
		return 0
	fi
	if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
		die "$dir exists and is not empty"
	fi
	mkdir -p "$dir"
	: >"$marker"
	make_datadir
	local data
	data=$(datadir)

	as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-locale \
		>"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		die "initdb failed"
	}
	cat >>"$data/postgresql.conf" <<-EOF

		# scripts/pg-cluster.sh
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$data'
		fsync = on
		synchronous_commit = on
		max_connections = 200
		log_min_messages = warning
	EOF

	local port= attempt
	for attempt in 1 2 3 4 5; do
		port=$(pick_port) || die "no free port found"
		if as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
			-o "-p $port" start >/dev/null 2>&1; then
			break
		fi
		port=
		if ! grep -q 'could not bind\|could not create listen socket' "$data/server.log" 2>/dev/null; then
			break
		fi
		echo "pg-cluster: port taken, trying another" >&2
	done
	if [ -z "$port" ]; then
		tail -n 20 "$data/server.log" >&2 || true
		die "the server did not start"
	fi
	echo "port = $port" >>"$data/postgresql.conf"

	as_pg "$bin/createdb" -h "$data" -p "$port" -U postgres loy ||
		die "createdb loy failed"
	echo "postgresql://postgres@127.0.0.1:$port/loy" >"$dir/url"
	cat "$dir/url"
}

cmd_stop() {
	[ -e "$dir" ] || return 0
	[ -f "$marker" ] || die "$dir was not made by pg-cluster.sh start; not touching it"
	if [ -e "$dir/data/PG_VERSION" ]; then
		as_pg "$bin/pg_ctl" -D "$(datadir)" -m fast -w -t 60 stop >/dev/null 2>&1 || true
	fi
	if [ -L "$dir/data" ]; then
		local target
		target=$(readlink "$dir/data")
		case "$target" in /tmp/loy-pg.*) rm -rf "$target" ;; esac
	fi
	rm -rf "$dir"
}

cmd_url() {
	[ -f "$dir/url" ] || die "no cluster in $dir"
	cat "$dir/url"
}

case "$cmd" in
start)
	bin=$(find_bin) || {
		install_postgres
		bin=$(find_bin) || die "initdb not found after installing postgresql"
	}
	cmd_start
	;;
stop)
	bin=$(find_bin) || bin=/usr/lib/postgresql/15/bin
	cmd_stop
	;;
url) cmd_url ;;
*) usage ;;
esac
