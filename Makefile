# Upstream capOS's make entry points, as thin wrappers around the npm scripts (README, "Make targets").
#
#   make run-<smoke>   boots that smoke's manifest with the serial console on this terminal and checks nothing
#                      (upstream's rule: run targets only start QEMU; Ctrl-C quits). Every smoke a chapter defines
#                      is a target: `make help` lists them, read from the chapters.
#   make run-smoke     the whole smoke harness, with every chapter's assertions (npm run smoke)
#   make fmt-check     every formatter in check mode: cargo fmt on capos/, rustfmt on the chapters' Rust, Biome on
#                      the TypeScript
#                      (npm run fmt -- --check; npm run fmt formats)
#   make generated-code-check
#                      the schema's interface ids and method ordinals match capos/schema/abi-pin.txt, and the tangled
#                      tree matches the chapters (npm run generated-code-check)
#   make capos-rt-check
#                      capos-rt's host tests and its clippy runs (host and capOS)
#   make clippy        cargo clippy with warnings denied over capos/ and capos-wasm (npm run clippy)
#
# Cargo aliases for inside capos/ (cargo test-config, test-lib, build-demos-capos) are in capos/.cargo/config.toml.
# Everything else is npm: `npm start`, `npm test`, `npm run tangle`, `npm run build`, `npm run bench`.
NPM ?= npm

.PHONY: help run-smoke fmt-check generated-code-check capos-rt-check clippy
help:
	@$(NPM) run --silent run -- --list

run-smoke:
	$(NPM) run smoke

fmt-check:
	$(NPM) run fmt -- --check

generated-code-check:
	$(NPM) run generated-code-check

capos-rt-check:
	env -u RUSTFLAGS cargo test --manifest-path capos/Cargo.toml --target-dir build/cargo/host -p capos-rt
	$(NPM) run clippy -- capos-rt

clippy:
	$(NPM) run clippy

run-%:
	$(NPM) run run -- run-$*
