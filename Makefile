# The two commands: `make run` (the local stack) and `make test` (lint + the whole suite).
# Both create .venv from the requirements files first when it is missing or out of date.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint format fuzz bench onsale package deploy clean link

STAGE ?= prod
PACKAGE_DIR := build/package

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "pip>=24,<26.3"  # chalice 1.34 packages with pip < 26.3
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

run: $(STAMP)
	exec $(BIN)/python -m devstack

# Test files run in parallel processes (each its own in-process AWS, and its own local stack for
# the integration files it gets); a file's tests stay together on one process.
test: lint
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile

check: test

# Cold start, warm CPU, DynamoDB work, AWS cost and local load in one table (a few minutes);
# also written to build/bench.json.
bench: $(STAMP)
	$(BIN)/python -m bench

# Hot on-sales on the local stack under the scaled partition model: stock shards S = 1, 4, 16,
# 64 compared, the queue's fairness, 20 seeded runs, AWS's arithmetic (about 10 minutes); also
# written to build/onsale.json.
onsale: $(STAMP)
	$(BIN)/python -m bench.onsale

# schemathesis against the running local stack, as each kind of caller (a few minutes).
fuzz: $(STAMP)
	$(BIN)/python -m devstack.fuzz

# The newest link the local stack emailed to EMAIL (KIND: activate, reset-password, my-tickets).
link: $(STAMP)
	@test -n "$(EMAIL)" || { echo "usage: make link EMAIL=me@example.com [KIND=activate]" >&2; exit 2; }
	@$(BIN)/python -m devstack.mail "$(EMAIL)" $(KIND)

# The deployable template and zip for AWS, in $(PACKAGE_DIR): Chalice's template with
# deploy/template.yaml merged in. Needs no AWS account (the credentials are placeholders).
package: $(STAMP)
	rm -rf $(PACKAGE_DIR)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} \
	AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-packaging} AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-packaging} \
		$(BIN)/chalice package --stage $(STAGE) --merge-template deploy/template.yaml $(PACKAGE_DIR)
	$(BIN)/cfn-lint $(PACKAGE_DIR)/sam.yaml

# Package, upload the code to DEPLOY_BUCKET and create or update the stack events-api-$(STAGE)
# (the template goes through the bucket too: it is over CloudFormation's 51,200 bytes inline).
# Over a live stack whose tables change more than one index, deploy/index_steps.py's steps
# go first (CloudFormation takes one global secondary index per table per update).
# Needs the AWS CLI and credentials; APP_URL and SES_SENDER name the deployment (see README).
# STRIPE_PUBLISHABLE_KEY turns card payments on, with Stripe's secret key and webhook secret in
# the SSM SecureStrings /events-api/$(STAGE)/stripe-secret-key and .../stripe-webhook-secret.
STACK := events-api-$(STAGE)
STRIPE_PARAMETERS = $(if $(STRIPE_PUBLISHABLE_KEY),StripePublishableKey=$(STRIPE_PUBLISHABLE_KEY) \
	StripeSecretKeyParameter=/events-api/$(STAGE)/stripe-secret-key \
	StripeWebhookSecretParameter=/events-api/$(STAGE)/stripe-webhook-secret)
deploy: package
	@command -v aws >/dev/null || { echo "make deploy needs the AWS CLI (aws) on PATH"; exit 1; }
	@test -n "$(DEPLOY_BUCKET)" || { echo "set DEPLOY_BUCKET to an S3 bucket for the code"; exit 1; }
	@test -n "$(APP_URL)" || { echo "set APP_URL to the API's public https URL"; exit 1; }
	@test -n "$(SES_SENDER)" || { echo "set SES_SENDER to the SES-verified sender"; exit 1; }
	aws cloudformation package --template-file $(PACKAGE_DIR)/sam.yaml \
		--s3-bucket $(DEPLOY_BUCKET) --output-template-file $(PACKAGE_DIR)/packaged.yaml
	$(BIN)/python -m deploy.index_steps $(STACK) $(PACKAGE_DIR)/packaged.yaml $(PACKAGE_DIR)/steps \
		> $(PACKAGE_DIR)/steps.txt
	for template in $$(cat $(PACKAGE_DIR)/steps.txt) $(PACKAGE_DIR)/packaged.yaml; do \
		echo "deploying $$template"; \
		aws cloudformation deploy --template-file $$template --stack-name $(STACK) \
			--s3-bucket $(DEPLOY_BUCKET) --s3-prefix $(STACK)/templates \
			--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset \
			--parameter-overrides Stage=$(STAGE) TablePrefix=events-api-$(STAGE)- \
				AppUrl=$(APP_URL) SesSender=$(SES_SENDER) \
				JwtSecretParameter=/events-api/$(STAGE)/jwt-secret $(STRIPE_PARAMETERS) \
				$(DEPLOY_PARAMETERS) || exit 1; \
	done
	aws cloudformation describe-stacks --stack-name $(STACK) \
		--query "Stacks[0].Outputs[?OutputKey=='EndpointURL'].OutputValue" --output text

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache
