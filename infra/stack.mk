# Makefile fragment for the native Kafka + mongo-java-server stack. Include from the top-level Makefile:
#     include infra/stack.mk
# Integration/e2e targets can depend on `stack-up`; the variables below match what stack.sh uses,
# so a recipe can use $(STACK_ENV) to pass MASH_KAFKA_BOOTSTRAP / MASH_MONGO_URL to pytest. BROKERS=3 starts
# (or names) the three-broker cluster shape.

STACK_SH ?= bash infra/stack.sh
MASH_KAFKA_PORT ?= 9092
MASH_KAFKA_CONTROLLER_PORT ?= 9093
MASH_MONGO_PORT ?= 27017
export MASH_KAFKA_PORT MASH_KAFKA_CONTROLLER_PORT MASH_MONGO_PORT
ifdef BROKERS
export MASH_KAFKA_BROKERS := $(BROKERS)
endif

# Every export line of `stack.sh env` (all brokers' addresses, replication, credentials) for the next command.
STACK_ENV = exports="$$($(STACK_SH) env)" && eval "$$exports" &&

.PHONY: stack-provision stack-up stack-down stack-purge stack-status stack-smoke

stack-provision: ## fetch the Kafka and mongo-java-server jars into .cache (starts nothing)
	$(STACK_SH) provision

stack-up: ## start Kafka (KRaft; BROKERS=3 for three nodes) + mongo-java-server on 127.0.0.1 and wait until ready
	$(STACK_SH) up

stack-down: ## stop the processes stack-up started
	$(STACK_SH) down

stack-purge: ## stop and delete .cache/run (Kafka + MongoDB-protocol data, logs)
	$(STACK_SH) down --purge

stack-status: ## running/stopped per component (exit 3 unless both run)
	$(STACK_SH) status

stack-smoke: stack-up ## produce/consume + Mongo ping/unique index/find_one_and_update
	$(STACK_ENV) $(or $(PYTHON),python) infra/smoke_check.py
