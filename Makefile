# baagate: `make run` and `make test` are all a newcomer needs (see README.md).
SHELL := /bin/bash
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
ifeq ($(CI),true)
CMAKE_FLAGS += -DBAAGATE_WERROR=ON
endif

.PHONY: all setup build run test bench clean

all: build

setup:
	@bash scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@bash scripts/run.sh

test: build
	@bash scripts/test.sh

bench: build
	@bash bench/proxy/run.sh

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) build-fuzz
