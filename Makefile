# Loy — the two commands that matter are `make run` and `make test`; both install what is missing.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)

.PHONY: deps build asan run test test-unit test-http test-http-pg test-asan lint bench clean

# `make run` needs only the build and runtime packages; everything else needs the test set too.
DEPS_SET ?= test
run: DEPS_SET = run

deps:
	@scripts/install-deps.sh $(DEPS_SET)

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLOY_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# A development secret kept in var/ so that access tokens survive a restart of `make run`, and
# development Apple Wallet certificates (`loy certs dev`) so that passes are issued with no Apple
# account (an iPhone refuses them; docs/integration.md says how to install real ones).
run: build
	@mkdir -p var
	@[ -s var/secret.key ] || (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > var/secret.key)
	@./$(BUILD)/loy certs dev --out var/certs >/dev/null
	@LOY_LISTEN=$${LOY_LISTEN:-127.0.0.1:8080} LOY_SECRET_KEY=$${LOY_SECRET_KEY:-$$(cat var/secret.key)} \
		LOY_APPLE_PASS_CERT=$${LOY_APPLE_PASS_CERT:-var/certs/pass.pem} \
		LOY_APPLE_PASS_KEY=$${LOY_APPLE_PASS_KEY:-var/certs/pass.key} \
		LOY_APPLE_WWDR_CERT=$${LOY_APPLE_WWDR_CERT:-var/certs/wwdr.pem} \
		./$(BUILD)/loy serve

lint:
	@scripts/lint.sh

test-unit: build
	@cd $(BUILD) && ctest --output-on-failure

test-http: build
	@scripts/test-http.sh sqlite $(BUILD)/loy

test-http-pg: build
	@scripts/test-http.sh postgres $(BUILD)/loy

test-asan: asan
	@cd $(ASAN_BUILD) && ctest --output-on-failure
	@scripts/test-http.sh sqlite $(ASAN_BUILD)/loy

test: build lint
	@cd $(BUILD) && ctest --output-on-failure
	@node --test tests/fakes/
	@scripts/test-http.sh sqlite $(BUILD)/loy
	@scripts/test-http.sh postgres $(BUILD)/loy
	@$(MAKE) --no-print-directory test-asan

bench: build
	@bench/run.sh $(BUILD)/loy

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
