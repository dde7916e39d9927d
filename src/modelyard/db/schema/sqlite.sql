-- The schema Modelyard's migrations leave in an empty SQLite database, made in one
-- step on a new one (src/modelyard/db/snapshot.py). Written by
-- `python -m modelyard.db.snapshot`; do not edit.
-- revision: 0014
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE TABLE namespaces (
	id CHAR(32) NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	description TEXT NOT NULL, 
	archived_at DATETIME, 
	created_by VARCHAR(128) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, visibility VARCHAR(16) DEFAULT 'private' NOT NULL, 
	CONSTRAINT pk_namespaces PRIMARY KEY (id), 
	CONSTRAINT uq_namespaces_name UNIQUE (name)
);
CREATE TABLE search_documents (
	id INTEGER NOT NULL, 
	entity_id CHAR(32) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	body TEXT NOT NULL, 
	CONSTRAINT pk_search_documents PRIMARY KEY (id), 
	CONSTRAINT uq_search_documents_entity_id UNIQUE (entity_id)
);
CREATE TABLE models (
	id CHAR(32) NOT NULL, 
	namespace_id CHAR(32) NOT NULL, 
	namespace VARCHAR(64) NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	description TEXT NOT NULL, 
	risk_level VARCHAR(16) NOT NULL, 
	risk_reason TEXT NOT NULL, 
	version_counter INTEGER NOT NULL, 
	archived_at DATETIME, 
	created_by VARCHAR(128) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_by VARCHAR(128) NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_models PRIMARY KEY (id), 
	CONSTRAINT fk_models_namespace_id_namespaces FOREIGN KEY(namespace_id) REFERENCES namespaces (id), 
	CONSTRAINT uq_models_namespace_id_name UNIQUE (namespace_id, name)
);
CREATE TABLE model_tags (
	model_id CHAR(32) NOT NULL, 
	"key" VARCHAR(128) NOT NULL, 
	value TEXT NOT NULL, 
	CONSTRAINT pk_model_tags PRIMARY KEY (model_id, "key"), 
	CONSTRAINT fk_model_tags_model_id_models FOREIGN KEY(model_id) REFERENCES models (id) ON DELETE CASCADE
);
CREATE TABLE aliases (
	model_id CHAR(32) NOT NULL, 
	alias VARCHAR(64) NOT NULL, 
	version_id CHAR(32) NOT NULL, 
	version_number INTEGER NOT NULL, 
	updated_by VARCHAR(128) NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_aliases PRIMARY KEY (model_id, alias), 
	CONSTRAINT fk_aliases_model_id_models FOREIGN KEY(model_id) REFERENCES models (id) ON DELETE CASCADE, 
	CONSTRAINT fk_aliases_version_id_versions FOREIGN KEY(version_id) REFERENCES versions (id)
);
CREATE TABLE blobs (
	digest VARCHAR(71) NOT NULL, 
	size BIGINT NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_seen_at DATETIME NOT NULL, 
	condemned_at DATETIME, 
	CONSTRAINT pk_blobs PRIMARY KEY (digest)
);
CREATE TABLE uploads (
	id CHAR(32) NOT NULL, 
	received BIGINT NOT NULL, 
	declared_size BIGINT, 
	created_by VARCHAR(128) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_uploads PRIMARY KEY (id)
);
CREATE TABLE upload_parts (
	upload_id CHAR(32) NOT NULL, 
	start BIGINT NOT NULL, 
	size BIGINT NOT NULL, 
	"key" VARCHAR(512) NOT NULL, 
	CONSTRAINT pk_upload_parts PRIMARY KEY (upload_id, start), 
	CONSTRAINT fk_upload_parts_upload_id_uploads FOREIGN KEY(upload_id) REFERENCES uploads (id) ON DELETE CASCADE
);
CREATE TABLE artifacts (
	version_id CHAR(32) NOT NULL, 
	path VARCHAR(1024) NOT NULL, 
	size BIGINT NOT NULL, 
	digest VARCHAR(71) NOT NULL, 
	media_type VARCHAR(255) NOT NULL, 
	CONSTRAINT pk_artifacts PRIMARY KEY (version_id, path), 
	CONSTRAINT fk_artifacts_digest_blobs FOREIGN KEY(digest) REFERENCES blobs (digest), 
	CONSTRAINT fk_artifacts_version_id_versions FOREIGN KEY(version_id) REFERENCES versions (id)
);
CREATE TABLE denied_requests (
	id CHAR(32) NOT NULL, 
	at DATETIME NOT NULL, 
	actor VARCHAR(128) NOT NULL, 
	actor_id CHAR(32), 
	token_id CHAR(32), 
	action VARCHAR(64) NOT NULL, 
	target VARCHAR(300) NOT NULL, 
	method VARCHAR(16) NOT NULL, 
	path VARCHAR(1024) NOT NULL, 
	status INTEGER NOT NULL, 
	code VARCHAR(64) NOT NULL, 
	client VARCHAR(64) NOT NULL, 
	request_id VARCHAR(64) NOT NULL, 
	CONSTRAINT pk_denied_requests PRIMARY KEY (id)
);
CREATE TABLE users (
	id CHAR(32) NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	display_name VARCHAR(200) NOT NULL, 
	email VARCHAR(320) NOT NULL, 
	is_admin BOOLEAN NOT NULL, 
	password_hash VARCHAR(256), 
	owner_namespace_id CHAR(32), 
	disabled_at DATETIME, 
	created_by VARCHAR(128) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_users PRIMARY KEY (id), 
	CONSTRAINT fk_users_owner_namespace_id_namespaces FOREIGN KEY(owner_namespace_id) REFERENCES namespaces (id), 
	CONSTRAINT uq_users_name UNIQUE (name)
);
CREATE TABLE api_tokens (
	id CHAR(32) NOT NULL, 
	user_id CHAR(32) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	digest VARCHAR(64) NOT NULL, 
	prefix VARCHAR(16) NOT NULL, 
	last_four VARCHAR(4) NOT NULL, 
	scopes JSON NOT NULL, 
	expires_at DATETIME, 
	revoked_at DATETIME, 
	last_used_at DATETIME, 
	created_by VARCHAR(128) NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_api_tokens PRIMARY KEY (id), 
	CONSTRAINT fk_api_tokens_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
	CONSTRAINT uq_api_tokens_digest UNIQUE (digest)
);
CREATE TABLE memberships (
	namespace_id CHAR(32) NOT NULL, 
	user_id CHAR(32) NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	created_by VARCHAR(128) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_memberships PRIMARY KEY (namespace_id, user_id), 
	CONSTRAINT fk_memberships_namespace_id_namespaces FOREIGN KEY(namespace_id) REFERENCES namespaces (id), 
	CONSTRAINT fk_memberships_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE web_sessions (
	digest VARCHAR(64) NOT NULL, 
	user_id CHAR(32) NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_seen_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	CONSTRAINT pk_web_sessions PRIMARY KEY (digest), 
	CONSTRAINT fk_web_sessions_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE reviewer_capacities (
	namespace_id CHAR(32) NOT NULL, 
	user_id CHAR(32) NOT NULL, 
	capacity VARCHAR(32) NOT NULL, 
	granted_by VARCHAR(128) NOT NULL, 
	granted_at DATETIME NOT NULL, 
	CONSTRAINT pk_reviewer_capacities PRIMARY KEY (namespace_id, user_id, capacity), 
	CONSTRAINT fk_reviewer_capacities_namespace_id_memberships FOREIGN KEY(namespace_id, user_id) REFERENCES memberships (namespace_id, user_id) ON DELETE CASCADE
);
CREATE TABLE datasets (
	id CHAR(32) NOT NULL, 
	namespace_id CHAR(32) NOT NULL, 
	namespace VARCHAR(64) NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	version VARCHAR(64) NOT NULL, 
	uri VARCHAR(2048) NOT NULL, 
	digest VARCHAR(71), 
	size BIGINT, 
	owner VARCHAR(128) NOT NULL, 
	licence VARCHAR(200) NOT NULL, 
	description TEXT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	revoked_reason TEXT NOT NULL, 
	revoked_at DATETIME, 
	revoked_by VARCHAR(128) NOT NULL, 
	created_by VARCHAR(128) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_datasets PRIMARY KEY (id), 
	CONSTRAINT fk_datasets_namespace_id_namespaces FOREIGN KEY(namespace_id) REFERENCES namespaces (id), 
	CONSTRAINT uq_datasets_namespace_name_version UNIQUE (namespace, name, version)
);
CREATE TABLE consumers (
	id CHAR(32) NOT NULL, 
	model_id CHAR(32) NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	reference VARCHAR(300) NOT NULL, 
	description TEXT NOT NULL, 
	declared_by VARCHAR(128) NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_seen_at DATETIME, 
	last_version INTEGER, 
	CONSTRAINT pk_consumers PRIMARY KEY (id), 
	CONSTRAINT fk_consumers_model_id_models FOREIGN KEY(model_id) REFERENCES models (id), 
	CONSTRAINT uq_consumers_model_id_name UNIQUE (model_id, name)
);
CREATE TABLE dataset_classifications (
	dataset_id CHAR(32) NOT NULL, 
	classification VARCHAR(32) NOT NULL, 
	CONSTRAINT pk_dataset_classifications PRIMARY KEY (dataset_id, classification), 
	CONSTRAINT fk_dataset_classifications_dataset_id_datasets FOREIGN KEY(dataset_id) REFERENCES datasets (id) ON DELETE CASCADE
);
CREATE TABLE lineage_data (
	version_id CHAR(32) NOT NULL, 
	position INTEGER NOT NULL, 
	relation VARCHAR(16) NOT NULL, 
	dataset_id CHAR(32), 
	uri VARCHAR(2048) NOT NULL, 
	digest VARCHAR(71), 
	CONSTRAINT pk_lineage_data PRIMARY KEY (version_id, position), 
	CONSTRAINT fk_lineage_data_dataset_id_datasets FOREIGN KEY(dataset_id) REFERENCES datasets (id), 
	CONSTRAINT fk_lineage_data_version_id_versions FOREIGN KEY(version_id) REFERENCES versions (id)
);
CREATE TABLE lineage_versions (
	version_id CHAR(32) NOT NULL, 
	relation VARCHAR(16) NOT NULL, 
	upstream_id CHAR(32) NOT NULL, 
	CONSTRAINT pk_lineage_versions PRIMARY KEY (version_id, relation, upstream_id), 
	CONSTRAINT fk_lineage_versions_upstream_id_versions FOREIGN KEY(upstream_id) REFERENCES versions (id), 
	CONSTRAINT fk_lineage_versions_version_id_versions FOREIGN KEY(version_id) REFERENCES versions (id)
);
CREATE TABLE version_cards (
	version_id CHAR(32) NOT NULL, 
	markdown TEXT NOT NULL, 
	updated_by VARCHAR(128) NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_version_cards PRIMARY KEY (version_id), 
	CONSTRAINT fk_version_cards_version_id_versions FOREIGN KEY(version_id) REFERENCES versions (id)
);
CREATE TABLE version_ingredients (
	version_id CHAR(32) NOT NULL, 
	code JSON, 
	environment JSON, 
	config JSON, 
	code_commit VARCHAR(64) NOT NULL, 
	has_code BOOLEAN NOT NULL, 
	has_environment BOOLEAN NOT NULL, 
	has_config BOOLEAN NOT NULL, 
	has_data BOOLEAN NOT NULL, 
	complete BOOLEAN NOT NULL, 
	missing JSON NOT NULL, 
	CONSTRAINT pk_version_ingredients PRIMARY KEY (version_id), 
	CONSTRAINT fk_version_ingredients_version_id_versions FOREIGN KEY(version_id) REFERENCES versions (id)
);
CREATE TABLE version_metrics (
	version_id CHAR(32) NOT NULL, 
	name VARCHAR(128) NOT NULL, 
	dataset VARCHAR(300) NOT NULL, 
	split VARCHAR(64) NOT NULL, 
	value FLOAT NOT NULL, 
	CONSTRAINT pk_version_metrics PRIMARY KEY (version_id, name, dataset, split), 
	CONSTRAINT fk_version_metrics_version_id_versions FOREIGN KEY(version_id) REFERENCES versions (id)
);
CREATE TABLE version_packages (
	version_id CHAR(32) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	version VARCHAR(128) NOT NULL, 
	CONSTRAINT pk_version_packages PRIMARY KEY (version_id, name), 
	CONSTRAINT fk_version_packages_version_id_versions FOREIGN KEY(version_id) REFERENCES versions (id)
);
CREATE TABLE audit_head (
	id INTEGER NOT NULL, 
	seq BIGINT NOT NULL, 
	hash VARCHAR(64) NOT NULL, 
	CONSTRAINT pk_audit_head PRIMARY KEY (id)
);
CREATE TABLE cache_generations (
	name VARCHAR(32) NOT NULL, 
	generation BIGINT NOT NULL, 
	CONSTRAINT pk_cache_generations PRIMARY KEY (name)
);
CREATE TABLE webhook_cursor (
	id INTEGER NOT NULL, 
	seq BIGINT NOT NULL, 
	CONSTRAINT pk_webhook_cursor PRIMARY KEY (id)
);
CREATE TABLE webhooks (
	id CHAR(32) NOT NULL, 
	url TEXT NOT NULL, 
	description TEXT NOT NULL, 
	events JSON NOT NULL, 
	namespaces JSON NOT NULL, 
	active BOOLEAN NOT NULL, 
	secret_sealed VARCHAR(256) NOT NULL, 
	start_seq BIGINT NOT NULL, 
	created_by VARCHAR(128) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_by VARCHAR(128) NOT NULL, 
	updated_at DATETIME NOT NULL, previous_secret_sealed VARCHAR(256), previous_secret_until DATETIME, 
	CONSTRAINT pk_webhooks PRIMARY KEY (id)
);
CREATE TABLE webhook_deliveries (
	id CHAR(32) NOT NULL, 
	webhook_id CHAR(32) NOT NULL, 
	event_id CHAR(32) NOT NULL, 
	event_type VARCHAR(64) NOT NULL, 
	seq BIGINT, 
	body TEXT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	round_start INTEGER NOT NULL, 
	next_attempt_at DATETIME NOT NULL, 
	leased_by VARCHAR(64), 
	lease_expires_at DATETIME, 
	last_status_code INTEGER, 
	last_error TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	delivered_at DATETIME, 
	CONSTRAINT pk_webhook_deliveries PRIMARY KEY (id), 
	CONSTRAINT fk_webhook_deliveries_webhook_id_webhooks FOREIGN KEY(webhook_id) REFERENCES webhooks (id) ON DELETE CASCADE, 
	CONSTRAINT uq_webhook_deliveries_webhook_id_event_id UNIQUE (webhook_id, event_id)
);
CREATE TABLE webhook_attempts (
	delivery_id CHAR(32) NOT NULL, 
	number INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	status_code INTEGER, 
	error TEXT NOT NULL, 
	duration_ms INTEGER NOT NULL, 
	worker VARCHAR(64) NOT NULL, 
	CONSTRAINT pk_webhook_attempts PRIMARY KEY (delivery_id, number), 
	CONSTRAINT fk_webhook_attempts_delivery_id_webhook_deliveries FOREIGN KEY(delivery_id) REFERENCES webhook_deliveries (id) ON DELETE CASCADE
);
CREATE TABLE namespace_policies (
	namespace_id CHAR(32) NOT NULL, 
	document JSON NOT NULL, 
	updated_by VARCHAR(128) NOT NULL, 
	updated_at DATETIME NOT NULL, 
	CONSTRAINT pk_namespace_policies PRIMARY KEY (namespace_id), 
	CONSTRAINT fk_namespace_policies_namespace_id_namespaces FOREIGN KEY(namespace_id) REFERENCES namespaces (id)
);
CREATE TABLE comments (
	id CHAR(32) NOT NULL, 
	model_id CHAR(32) NOT NULL, 
	version_id CHAR(32), 
	version_number INTEGER, 
	author VARCHAR(128) NOT NULL, 
	body TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_comments PRIMARY KEY (id), 
	CONSTRAINT fk_comments_model_id_models FOREIGN KEY(model_id) REFERENCES models (id), 
	CONSTRAINT fk_comments_version_id_versions FOREIGN KEY(version_id) REFERENCES versions (id)
);
CREATE TABLE transitions (
	id INTEGER NOT NULL, 
	model_id CHAR(32) NOT NULL, 
	version_id CHAR(32) NOT NULL, 
	open_version_id CHAR(32), 
	namespace VARCHAR(64) NOT NULL, 
	model_name VARCHAR(64) NOT NULL, 
	version_number INTEGER NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	from_stage VARCHAR(32) NOT NULL, 
	to_stage VARCHAR(32) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	reason TEXT NOT NULL, 
	risk_level VARCHAR(16) NOT NULL, 
	manifest_digest VARCHAR(71), 
	requirement JSON NOT NULL, 
	checks JSON NOT NULL, 
	replaced_version_id CHAR(32), 
	replaced_number INTEGER, 
	basis_id INTEGER, 
	requested_by VARCHAR(128) NOT NULL, 
	requested_by_id CHAR(32), 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	closed_at DATETIME, 
	closed_by VARCHAR(128) NOT NULL, 
	close_reason TEXT NOT NULL, 
	CONSTRAINT pk_transitions PRIMARY KEY (id), 
	CONSTRAINT fk_transitions_basis_id_transitions FOREIGN KEY(basis_id) REFERENCES transitions (id), 
	CONSTRAINT fk_transitions_model_id_models FOREIGN KEY(model_id) REFERENCES models (id), 
	CONSTRAINT fk_transitions_open_version_id_versions FOREIGN KEY(open_version_id) REFERENCES versions (id), 
	CONSTRAINT fk_transitions_replaced_version_id_versions FOREIGN KEY(replaced_version_id) REFERENCES versions (id), 
	CONSTRAINT fk_transitions_version_id_versions FOREIGN KEY(version_id) REFERENCES versions (id), 
	CONSTRAINT uq_transitions_open_version_id UNIQUE (open_version_id)
);
CREATE TABLE transition_votes (
	id CHAR(32) NOT NULL, 
	transition_id INTEGER NOT NULL, 
	voter VARCHAR(128) NOT NULL, 
	voter_id CHAR(32) NOT NULL, 
	active_voter_id CHAR(32), 
	capacity VARCHAR(32) NOT NULL, 
	decision VARCHAR(8) NOT NULL, 
	comment TEXT NOT NULL, 
	risk_level VARCHAR(16) NOT NULL, 
	manifest_digest VARCHAR(71), 
	cast_at DATETIME NOT NULL, 
	superseded_at DATETIME, 
	CONSTRAINT pk_transition_votes PRIMARY KEY (id), 
	CONSTRAINT fk_transition_votes_transition_id_transitions FOREIGN KEY(transition_id) REFERENCES transitions (id), 
	CONSTRAINT uq_transition_votes_transition_id_active_voter_id UNIQUE (transition_id, active_voter_id)
);
CREATE TABLE "versions" (
	id CHAR(32) NOT NULL, 
	model_id CHAR(32) NOT NULL, 
	number INTEGER NOT NULL, 
	namespace VARCHAR(64) NOT NULL, 
	model_name VARCHAR(64) NOT NULL, 
	description TEXT NOT NULL, 
	stage VARCHAR(32) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	metrics JSON NOT NULL, 
	manifest_digest VARCHAR(71), 
	archived_at DATETIME, 
	created_by VARCHAR(128) NOT NULL, 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	exclusive_stage VARCHAR(32), 
	CONSTRAINT pk_versions PRIMARY KEY (id), 
	CONSTRAINT uq_versions_model_id_number UNIQUE (model_id, number), 
	CONSTRAINT ck_versions_exclusive_is_stage CHECK (exclusive_stage IS NULL OR exclusive_stage = stage), 
	CONSTRAINT fk_versions_model_id_models FOREIGN KEY(model_id) REFERENCES models (id)
);
CREATE TABLE "audit_events" (
	seq INTEGER NOT NULL, 
	event_id CHAR(32) NOT NULL, 
	at DATETIME NOT NULL, 
	actor VARCHAR(128) NOT NULL, 
	actor_id CHAR(32), 
	token_id CHAR(32), 
	action VARCHAR(64) NOT NULL, 
	target VARCHAR(300) NOT NULL, 
	namespace VARCHAR(64), 
	"before" JSON, 
	"after" JSON, 
	request_id VARCHAR(64) NOT NULL, 
	prev_hash VARCHAR(64) NOT NULL, 
	hash VARCHAR(64) NOT NULL, 
	CONSTRAINT pk_audit_events PRIMARY KEY (seq), 
	CONSTRAINT uq_audit_events_event_id UNIQUE (event_id)
);
CREATE TABLE "version_tags" (
	version_id CHAR(32) NOT NULL, 
	"key" VARCHAR(128) NOT NULL, 
	value TEXT NOT NULL, 
	CONSTRAINT pk_version_tags PRIMARY KEY (version_id, "key"), 
	CONSTRAINT fk_version_tags_version_id_versions FOREIGN KEY(version_id) REFERENCES versions (id) ON DELETE CASCADE
)
 WITHOUT ROWID

;
CREATE TABLE "outbox_events" (
	seq INTEGER NOT NULL, 
	event_id CHAR(32) NOT NULL, 
	type VARCHAR(64) NOT NULL, 
	namespace VARCHAR(64), 
	target VARCHAR(300) NOT NULL, 
	payload JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	CONSTRAINT pk_outbox_events PRIMARY KEY (seq)
);
CREATE TABLE search_fts_watermark (id INTEGER PRIMARY KEY CHECK (id = 1), indexed_up_to INTEGER NOT NULL);
CREATE VIRTUAL TABLE search_fts USING fts5(body, content='search_documents', content_rowid='id', tokenize='unicode61 remove_diacritics 0', columnsize=0);
CREATE INDEX ix_models_created_at ON models (created_at);
CREATE INDEX ix_models_name ON models (name);
CREATE INDEX ix_models_namespace_id ON models (namespace_id);
CREATE INDEX ix_models_updated_at ON models (updated_at);
CREATE INDEX ix_aliases_version_id ON aliases (version_id);
CREATE INDEX ix_blobs_last_seen_at ON blobs (last_seen_at);
CREATE INDEX ix_uploads_updated_at ON uploads (updated_at);
CREATE INDEX ix_artifacts_digest ON artifacts (digest);
CREATE INDEX ix_denied_requests_at ON denied_requests (at);
CREATE INDEX ix_api_tokens_user_id ON api_tokens (user_id);
CREATE INDEX ix_memberships_user_id ON memberships (user_id);
CREATE INDEX ix_web_sessions_expires_at ON web_sessions (expires_at);
CREATE INDEX ix_web_sessions_user_id ON web_sessions (user_id);
CREATE INDEX ix_datasets_created_at ON datasets (created_at);
CREATE INDEX ix_datasets_namespace_id ON datasets (namespace_id);
CREATE INDEX ix_datasets_status ON datasets (status);
CREATE INDEX ix_consumers_model_id ON consumers (model_id);
CREATE INDEX ix_dataset_classifications_classification ON dataset_classifications (classification);
CREATE INDEX ix_lineage_data_dataset_id ON lineage_data (dataset_id);
CREATE INDEX ix_lineage_versions_upstream_id ON lineage_versions (upstream_id);
CREATE INDEX ix_version_ingredients_code_commit ON version_ingredients (code_commit);
CREATE INDEX ix_version_ingredients_complete ON version_ingredients (complete);
CREATE INDEX ix_version_metrics_name ON version_metrics (name);
CREATE INDEX ix_version_packages_name_version ON version_packages (name, version);
CREATE INDEX ix_webhook_deliveries_status_next_attempt_at ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX ix_webhook_deliveries_webhook_id_created_at ON webhook_deliveries (webhook_id, created_at);
CREATE INDEX ix_comments_model_id_created_at ON comments (model_id, created_at);
CREATE INDEX ix_comments_version_id ON comments (version_id);
CREATE INDEX ix_transitions_created_at ON transitions (created_at);
CREATE INDEX ix_transitions_model_id_status ON transitions (model_id, status);
CREATE INDEX ix_transitions_namespace ON transitions (namespace);
CREATE INDEX ix_transitions_status_expires_at ON transitions (status, expires_at);
CREATE INDEX ix_transitions_version_id ON transitions (version_id);
CREATE INDEX ix_transition_votes_transition_id ON transition_votes (transition_id);
CREATE INDEX ix_versions_model_name ON versions (model_name);
CREATE INDEX ix_versions_created_at ON versions (created_at);
CREATE INDEX ix_versions_stage ON versions (stage);
CREATE INDEX ix_versions_updated_at ON versions (updated_at);
CREATE UNIQUE INDEX uq_versions_model_id_exclusive_stage ON versions (model_id, exclusive_stage) WHERE exclusive_stage IS NOT NULL;
CREATE INDEX ix_versions_manifest_digest ON versions (manifest_digest) WHERE manifest_digest IS NOT NULL;
CREATE INDEX ix_audit_events_action ON audit_events (action);
CREATE INDEX ix_audit_events_target ON audit_events (target);
CREATE INDEX ix_audit_events_at ON audit_events (at);
CREATE INDEX ix_audit_events_namespace ON audit_events (namespace);
CREATE INDEX ix_audit_events_actor ON audit_events (actor);
CREATE INDEX ix_versions_model_id_stage ON versions (model_id, stage, number);
CREATE INDEX ix_models_namespace_name_id ON models (namespace, name, id);
CREATE TRIGGER access_generation_api_tokens_update AFTER UPDATE OF user_id, digest, scopes, expires_at, revoked_at ON api_tokens BEGIN INSERT INTO cache_generations (name, generation) VALUES ('access', 1) ON CONFLICT (name) DO UPDATE SET generation = cache_generations.generation + 1; END;
CREATE TRIGGER access_generation_api_tokens_delete AFTER DELETE ON api_tokens BEGIN INSERT INTO cache_generations (name, generation) VALUES ('access', 1) ON CONFLICT (name) DO UPDATE SET generation = cache_generations.generation + 1; END;
CREATE TRIGGER access_generation_users_update AFTER UPDATE OF name, kind, is_admin, disabled_at ON users BEGIN INSERT INTO cache_generations (name, generation) VALUES ('access', 1) ON CONFLICT (name) DO UPDATE SET generation = cache_generations.generation + 1; END;
CREATE TRIGGER access_generation_users_delete AFTER DELETE ON users BEGIN INSERT INTO cache_generations (name, generation) VALUES ('access', 1) ON CONFLICT (name) DO UPDATE SET generation = cache_generations.generation + 1; END;
CREATE TRIGGER access_generation_memberships_insert AFTER INSERT ON memberships BEGIN INSERT INTO cache_generations (name, generation) VALUES ('access', 1) ON CONFLICT (name) DO UPDATE SET generation = cache_generations.generation + 1; END;
CREATE TRIGGER access_generation_memberships_update AFTER UPDATE ON memberships BEGIN INSERT INTO cache_generations (name, generation) VALUES ('access', 1) ON CONFLICT (name) DO UPDATE SET generation = cache_generations.generation + 1; END;
CREATE TRIGGER access_generation_memberships_delete AFTER DELETE ON memberships BEGIN INSERT INTO cache_generations (name, generation) VALUES ('access', 1) ON CONFLICT (name) DO UPDATE SET generation = cache_generations.generation + 1; END;
CREATE TRIGGER access_generation_reviewer_capacities_insert AFTER INSERT ON reviewer_capacities BEGIN INSERT INTO cache_generations (name, generation) VALUES ('access', 1) ON CONFLICT (name) DO UPDATE SET generation = cache_generations.generation + 1; END;
CREATE TRIGGER access_generation_reviewer_capacities_update AFTER UPDATE ON reviewer_capacities BEGIN INSERT INTO cache_generations (name, generation) VALUES ('access', 1) ON CONFLICT (name) DO UPDATE SET generation = cache_generations.generation + 1; END;
CREATE TRIGGER access_generation_reviewer_capacities_delete AFTER DELETE ON reviewer_capacities BEGIN INSERT INTO cache_generations (name, generation) VALUES ('access', 1) ON CONFLICT (name) DO UPDATE SET generation = cache_generations.generation + 1; END;
CREATE TRIGGER access_generation_namespaces_insert AFTER INSERT ON namespaces BEGIN INSERT INTO cache_generations (name, generation) VALUES ('access', 1) ON CONFLICT (name) DO UPDATE SET generation = cache_generations.generation + 1; END;
CREATE TRIGGER access_generation_namespaces_update AFTER UPDATE OF name, visibility ON namespaces BEGIN INSERT INTO cache_generations (name, generation) VALUES ('access', 1) ON CONFLICT (name) DO UPDATE SET generation = cache_generations.generation + 1; END;
CREATE TRIGGER access_generation_namespaces_delete AFTER DELETE ON namespaces BEGIN INSERT INTO cache_generations (name, generation) VALUES ('access', 1) ON CONFLICT (name) DO UPDATE SET generation = cache_generations.generation + 1; END;
CREATE TRIGGER search_fts_ad AFTER DELETE ON search_documents BEGIN INSERT INTO search_fts(search_fts, rowid, body) SELECT 'delete', old.id, old.body WHERE old.id <= (SELECT indexed_up_to FROM search_fts_watermark); UPDATE search_fts_watermark SET indexed_up_to = (SELECT coalesce(max(id), 0) FROM search_documents) WHERE indexed_up_to > (SELECT coalesce(max(id), 0) FROM search_documents); END;
CREATE TRIGGER search_fts_au AFTER UPDATE ON search_documents BEGIN INSERT INTO search_fts(search_fts, rowid, body) SELECT 'delete', old.id, old.body WHERE old.id <= (SELECT indexed_up_to FROM search_fts_watermark); INSERT INTO search_fts(rowid, body) SELECT new.id, new.body WHERE new.id <= (SELECT indexed_up_to FROM search_fts_watermark); UPDATE search_fts_watermark SET indexed_up_to = (SELECT coalesce(max(id), 0) FROM search_documents) WHERE indexed_up_to > (SELECT coalesce(max(id), 0) FROM search_documents); END;
INSERT INTO "alembic_version" ("version_num") VALUES ('0014');
INSERT INTO "audit_head" ("id", "seq", "hash") VALUES (1,0,'0000000000000000000000000000000000000000000000000000000000000000');
INSERT INTO "cache_generations" ("name", "generation") VALUES ('access',1);
INSERT INTO "search_fts_watermark" ("id", "indexed_up_to") VALUES (1,0);
