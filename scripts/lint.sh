#!/usr/bin/env bash
# make lint: the checks a compiler does not make.
#   1. banned functions in src/ (STYLE.md rule 7)
#   2. formatting by the project's .clang-format (when the file exists)
#   3. layering: which folder may include which header (STYLE.md rules 8 and 12)
#   4. docs/openapi.yaml through Redocly's linter (when both are present)
# Runs every check, prints file:line for each finding, exits 1 if any check failed.
set -uo pipefail
cd "$(dirname "$0")/.."

failed=()
fail() { failed+=("$1"); }

# C sources under src/ (and, for formatting, tests/), never node_modules or build trees.
mapfile -t src_files < <(find src -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | LC_ALL=C sort)

# Strip comments, string and character literals from C source, keeping every newline, so that
# "no sprintf() here" in a comment or a log message is not a finding and line numbers stay true.
strip_c='
	local $/;
	for my $f (@ARGV) {
		open(my $fh, "<", $f) or die "$f: $!\n";
		my $s = <$fh>;
		close $fh;
		$s =~ s{(/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\x27(?:\\.|[^\x27\\\n])*\x27)}{
			my $m = $1;
			my $keep = ($m =~ /^["\x27]/) ? substr($m, 0, 1) . substr($m, -1) : "";
			(my $nl = $m) =~ s/[^\n]//g;
			$keep . $nl;
		}gse;
		my $n = 0;
		for my $line (split /\n/, $s, -1) {
			$n++;
			print "$f\t$n\t$line\n";
		}
	}
'

# ---- 1. banned functions ---------------------------------------------------------------------
banned='sprintf|vsprintf|strcpy|strcat|strtok|gets|sscanf|atoi|atol'
if [ ${#src_files[@]} -gt 0 ]; then
	hits=$(perl -e "$strip_c" "${src_files[@]}" |
		perl -F'\t' -lane '
			my $code = join("\t", @F[2..$#F]);
			while ($code =~ /(?<![A-Za-z0-9_])('"$banned"')\s*\(/g) {
				print "$F[0]:$F[1]: $1() is banned";
			}')
	if [ -n "$hits" ]; then
		printf '%s\n' "$hits"
		echo "lint: banned functions found (use snprintf, buf_*, str_* from src/base, strtol/strtoll with checks)"
		fail "banned functions"
	fi
fi

# ---- 2. formatting ---------------------------------------------------------------------------
if [ -f .clang-format ]; then
	if ! command -v clang-format >/dev/null 2>&1; then
		echo "lint: clang-format not found (scripts/install-deps.sh test installs it)"
		fail "clang-format missing"
	else
		mapfile -t fmt_files < <({
			printf '%s\n' "${src_files[@]}"
			find tests -name node_modules -prune -o -type f -name '*.c' -print 2>/dev/null
		} | grep -v '^$' | LC_ALL=C sort -u)
		if [ ${#fmt_files[@]} -gt 0 ]; then
			out=$(clang-format --style=file --dry-run --Werror "${fmt_files[@]}" 2>&1)
			if [ $? -ne 0 ]; then
				# Only the file:line:col headers; the full diff is one `clang-format -i` away.
				printf '%s\n' "$out" | grep -E '^[^ ].*:[0-9]+:[0-9]+: (error|warning)' | head -n 50
				bad=$(printf '%s\n' "$out" | grep -oE '^[^ :]+\.(c|h):' | sort -u | tr -d ':' | tr '\n' ' ')
				echo "lint: not formatted by .clang-format: $bad"
				echo "      fix with: clang-format -i $bad"
				fail "formatting"
			fi
		fi
	fi
fi

# ---- 3. layering -----------------------------------------------------------------------------
# Each rule: a header pattern, and the paths allowed to include it. src/core/ includes no HTTP,
# SQL, JSON or network header and nothing from the layers above or beside it.
if [ ${#src_files[@]} -gt 0 ]; then
	hits=$(perl -e "$strip_c" "${src_files[@]}" |
		perl -F'\t' -lane '
			my ($f, $n) = @F[0,1];
			my $code = join("\t", @F[2..$#F]);
			# the include target survives stripping only for <...>; take "..." from the raw line
			next unless $code =~ /^\s*#\s*include\b/;
			open(my $fh, "<", $f) or die; my @l = <$fh>; close $fh;
			my ($h) = $l[$n-1] =~ /^\s*#\s*include\s*[<"]([^>"]+)[>"]/ or next;
			my $core = $f =~ m{^src/core/};
			my @why;
			if ($core) {
				push @why, "src/core/ must not include <$h>"
					if $h =~ m{^(sqlite3\.h|libpq-fe\.h|microhttpd\.h|jansson\.h|curl/|openssl/|hiredis/)};
				push @why, "src/core/ must not include \"$h\" (a layer above or beside core)"
					if $h =~ m{^(http|store|api)/};
			}
			push @why, "<sqlite3.h> belongs to src/store/sqlite.c only"
				if $h eq "sqlite3.h" && $f ne "src/store/sqlite.c";
			push @why, "<libpq-fe.h> belongs to src/store/postgres.c only"
				if $h eq "libpq-fe.h" && $f ne "src/store/postgres.c";
			push @why, "<curl/...> belongs to src/net/ only"
				if $h =~ m{^curl/} && $f !~ m{^src/net/};
			push @why, "<openssl/...> belongs to src/crypto/ only"
				if $h =~ m{^openssl/} && $f !~ m{^src/crypto/};
			push @why, "<microhttpd.h> belongs to src/http/ only"
				if $h eq "microhttpd.h" && $f !~ m{^src/http/};
			my %seen;
			print "$f:$n: $_" for grep { !$seen{$_}++ } @why;
		')
	if [ -n "$hits" ]; then
		printf '%s\n' "$hits"
		echo "lint: layering broken (see STYLE.md: base <- http, store, crypto, net <- core <- api <- main)"
		fail "layering"
	fi
fi

# ---- 4. OpenAPI ------------------------------------------------------------------------------
redocly=tests/http/node_modules/.bin/redocly
if [ -f docs/openapi.yaml ]; then
	if [ -x "$redocly" ]; then
		if ! out=$(REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
			"$redocly" lint docs/openapi.yaml 2>&1); then
			printf '%s\n' "$out" | tail -n 60
			echo "lint: docs/openapi.yaml fails redocly lint"
			fail "openapi"
		fi
	else
		echo "lint: note: $redocly not installed; docs/openapi.yaml not linted (scripts/install-deps.sh test)"
	fi
fi

# ---- 5. .env.example is what the config table says ---------------------------------------------
loybin=${LOYBIN:-build/loy}
if [ -x "$loybin" ]; then
	if ! diff -u .env.example <("$loybin" config --defaults) >/dev/null 2>&1; then
		diff -u .env.example <("$loybin" config --defaults) | head -n 40
		echo "lint: .env.example is stale: $loybin config --defaults > .env.example"
		fail "env-example"
	fi
fi

if [ ${#failed[@]} -gt 0 ]; then
	echo "lint: FAILED: ${failed[*]}"
	exit 1
fi
echo "lint: ok (${#src_files[@]} files under src/)"
