# The two commands the README opens with. Each installs what is missing first.
.PHONY: demo test deps bench build clean

deps:
	@bash scripts/ensure-deps.sh

## Start the whole stack locally (Redis, API, workers), push the synthetic cases through it and print where to look.
demo: deps
	@npm run --silent demo

## Lint, typecheck and run every test suite against real Redis.
test:
	@bash scripts/ensure-deps.sh test
	@npm test

## Benchmarks (JSON on stdout).
bench: deps
	@npm run --silent bench

build: deps
	@npm run build

clean:
	rm -rf dist .data
