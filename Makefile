# Upstream capOS's make entry points, as thin wrappers around the npm scripts (README, "Make targets").
#
#   make run-<smoke>   boots that smoke's manifest with the serial console on this terminal and checks nothing
#                      (upstream's rule: run targets only start QEMU; Ctrl-C quits). Every smoke a chapter defines
#                      is a target: `make help` lists them, read from the chapters.
#   make run-smoke     the whole smoke harness, with every chapter's assertions (npm run smoke)
#
# Everything else is npm: `npm start`, `npm test`, `npm run tangle`, `npm run build`, `npm run bench`.
NPM ?= npm

.PHONY: help run-smoke
help:
	@$(NPM) run --silent run -- --list

run-smoke:
	$(NPM) run smoke

run-%:
	$(NPM) run run -- run-$*
