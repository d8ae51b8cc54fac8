-- revision: 0004
-- The schema of a new database: what SQLite holds once the revisions ran. Generated
-- by `python -m aiokili.server.store.migrations`; never edited by hand.
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE TABLE organizations (
	id TEXT NOT NULL, 
	name TEXT, 
	created_at TEXT, 
	PRIMARY KEY (id)
);
CREATE TABLE users (
	id TEXT NOT NULL, 
	email TEXT, 
	firstname TEXT, 
	lastname TEXT, 
	organization_id TEXT, 
	created_at TEXT, 
	organization_role TEXT DEFAULT 'ADMIN', 
	activated INTEGER DEFAULT 1, 
	updated_at TEXT, 
	password_hash TEXT, 
	PRIMARY KEY (id), 
	UNIQUE (email)
);
CREATE TABLE api_keys (
	key_hash TEXT NOT NULL, 
	id TEXT, 
	name TEXT, 
	user_id TEXT, 
	created_at TEXT, 
	revoked INTEGER DEFAULT 0, 
	PRIMARY KEY (key_hash), 
	UNIQUE (id)
);
CREATE TABLE projects (
	seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	id TEXT, 
	title TEXT, 
	description TEXT, 
	input_type TEXT, 
	json_interface TEXT, 
	author_id TEXT, 
	archived INTEGER DEFAULT 0, 
	props TEXT DEFAULT '{}', 
	created_at TEXT, 
	updated_at TEXT, 
	organization_id TEXT, 
	UNIQUE (id)
);
CREATE TABLE project_stars (
	project_id TEXT NOT NULL, 
	user_id TEXT NOT NULL, 
	PRIMARY KEY (project_id, user_id)
)
 WITHOUT ROWID

;
CREATE TABLE project_users (
	seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	id TEXT, 
	project_id TEXT, 
	user_id TEXT, 
	role TEXT, 
	created_at TEXT, 
	UNIQUE (project_id, user_id), 
	UNIQUE (id)
);
CREATE TABLE assets (
	seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	id TEXT, 
	project_id TEXT, 
	external_id TEXT, 
	content TEXT, 
	json_content TEXT, 
	json_metadata TEXT, 
	status TEXT, 
	is_honeypot INTEGER, 
	created_at TEXT, 
	updated_at TEXT, 
	skipped INTEGER DEFAULT 0, 
	priority INTEGER DEFAULT 0, 
	consensus_mark FLOAT, 
	honeypot_mark FLOAT, 
	inference_mark FLOAT, 
	step_id TEXT, 
	step_status TEXT, 
	step_group_name TEXT, 
	UNIQUE (id)
);
CREATE TABLE notifications (
	id TEXT NOT NULL, 
	status TEXT, 
	created_at TEXT, 
	organization_id TEXT, 
	message TEXT, owner TEXT, 
	PRIMARY KEY (id)
);
CREATE TABLE labels (
	seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	id TEXT, 
	project_id TEXT, 
	asset_id TEXT, 
	author_id TEXT, 
	label_type TEXT, 
	json_response TEXT, 
	model_name TEXT, 
	seconds_to_label FLOAT, 
	created_at TEXT, 
	updated_at TEXT, 
	UNIQUE (id)
);
CREATE TABLE label_categories (
	label_id TEXT NOT NULL, 
	job TEXT NOT NULL, 
	category TEXT NOT NULL, 
	count INTEGER, 
	PRIMARY KEY (label_id, job, category)
)
 WITHOUT ROWID

;
CREATE TABLE label_marks (
	label_id TEXT NOT NULL, 
	asset_id TEXT, 
	consensus_mark FLOAT, 
	honeypot_mark FLOAT, 
	PRIMARY KEY (label_id)
)
 WITHOUT ROWID

;
CREATE TABLE asset_marks (
	asset_id TEXT NOT NULL, 
	consensus_mark FLOAT, 
	honeypot_mark FLOAT, 
	PRIMARY KEY (asset_id)
)
 WITHOUT ROWID

;
CREATE TABLE honeypots (
	asset_id TEXT NOT NULL, 
	label_id TEXT, 
	PRIMARY KEY (asset_id)
)
 WITHOUT ROWID

;
CREATE TABLE issues (
	seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	id TEXT, 
	project_id TEXT, 
	asset_id TEXT, 
	label_id TEXT, 
	object_mid TEXT, 
	type TEXT, 
	status TEXT, 
	text TEXT, 
	author_id TEXT, 
	created_at TEXT, 
	updated_at TEXT, 
	issue_number INTEGER, 
	has_been_seen INTEGER DEFAULT 0, 
	UNIQUE (id)
);
CREATE TABLE tags (
	seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	id TEXT, 
	label TEXT, 
	color TEXT, 
	organization_id TEXT, 
	created_at TEXT, 
	UNIQUE (id)
);
CREATE TABLE project_tags (
	project_id TEXT NOT NULL, 
	tag_id TEXT NOT NULL, 
	PRIMARY KEY (project_id, tag_id)
)
 WITHOUT ROWID

;
CREATE TABLE project_versions (
	seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	id TEXT, 
	project_id TEXT, 
	name TEXT, 
	content TEXT, 
	created_at TEXT, 
	UNIQUE (id)
);
CREATE TABLE files (
	"key" TEXT NOT NULL, 
	content_type TEXT, 
	size INTEGER, 
	created_at TEXT, 
	organization_id TEXT, 
	PRIMARY KEY ("key")
);
CREATE TABLE settings (
	name TEXT NOT NULL, 
	value TEXT, 
	PRIMARY KEY (name)
);
CREATE TABLE events (
	seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	kind TEXT, 
	project_id TEXT, 
	asset_id TEXT, 
	created_at TEXT
);
CREATE TABLE project_steps (
	id TEXT NOT NULL, 
	project_id TEXT, 
	name TEXT, 
	type TEXT, 
	position INTEGER, 
	consensus_coverage INTEGER, 
	expected_labels INTEGER, 
	step_coverage INTEGER, 
	send_back_step_id TEXT, 
	use_honeypot INTEGER, 
	PRIMARY KEY (id)
)
 WITHOUT ROWID

;
CREATE TABLE step_assignees (
	step_id TEXT NOT NULL, 
	user_id TEXT NOT NULL, 
	position INTEGER, 
	PRIMARY KEY (step_id, user_id)
)
 WITHOUT ROWID

;
CREATE TABLE label_steps (
	label_id TEXT NOT NULL, 
	step_id TEXT, 
	PRIMARY KEY (label_id)
)
 WITHOUT ROWID

;
CREATE TABLE asset_assignees (
	asset_id TEXT NOT NULL, 
	user_id TEXT NOT NULL, 
	PRIMARY KEY (asset_id, user_id)
)
 WITHOUT ROWID

;
CREATE TABLE asset_properties (
	asset_id TEXT NOT NULL, 
	is_used_for_consensus INTEGER, 
	resolution TEXT, 
	page_resolutions TEXT, 
	PRIMARY KEY (asset_id)
)
 WITHOUT ROWID

;
CREATE TABLE sent_back_assets (
	asset_id TEXT NOT NULL, 
	PRIMARY KEY (asset_id)
)
 WITHOUT ROWID

;
CREATE TABLE sent_back_labels (
	label_id TEXT NOT NULL, 
	PRIMARY KEY (label_id)
)
 WITHOUT ROWID

;
CREATE TABLE plugins (
	seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	id TEXT, 
	name TEXT, 
	organization_id TEXT, 
	status TEXT, 
	handler_types TEXT, 
	event_matcher TEXT, 
	archive_key TEXT, 
	version INTEGER DEFAULT 0, 
	webhook_url TEXT, 
	webhook_header TEXT, 
	created_at TEXT, 
	updated_at TEXT, 
	UNIQUE (id), 
	UNIQUE (name)
);
CREATE TABLE plugin_projects (
	plugin_id TEXT NOT NULL, 
	project_id TEXT NOT NULL, 
	label_seq INTEGER, 
	event_seq INTEGER, 
	PRIMARY KEY (plugin_id, project_id)
)
 WITHOUT ROWID

;
CREATE TABLE plugin_logs (
	seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	plugin_name TEXT, 
	kind TEXT, 
	project_id TEXT, 
	run_id TEXT, 
	asset_id TEXT, 
	label_id TEXT, 
	log_type TEXT, 
	content TEXT, 
	created_at TEXT
);
CREATE TABLE label_updates (
	seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	label_id TEXT, 
	project_id TEXT
);
CREATE TABLE label_changes (
	label_id TEXT NOT NULL, 
	seq INTEGER, 
	PRIMARY KEY (label_id)
)
 WITHOUT ROWID

;
CREATE INDEX api_keys_user ON api_keys (user_id);
CREATE INDEX projects_organization ON projects (organization_id, seq);
CREATE INDEX project_users_user ON project_users (user_id, project_id);
CREATE INDEX assets_project ON assets (project_id, seq);
CREATE UNIQUE INDEX assets_external_id ON assets (project_id, external_id);
CREATE INDEX labels_project ON labels (project_id, seq);
CREATE INDEX labels_asset ON labels (asset_id, seq);
CREATE INDEX label_marks_asset ON label_marks (asset_id);
CREATE INDEX issues_project ON issues (project_id, seq);
CREATE INDEX issues_asset ON issues (asset_id);
CREATE INDEX project_versions_project ON project_versions (project_id, seq);
CREATE INDEX project_steps_project ON project_steps (project_id, position);
CREATE INDEX plugin_logs_name ON plugin_logs (plugin_name, kind, seq);
CREATE INDEX label_changes_seq ON label_changes (seq);
CREATE TRIGGER label_updates_record AFTER UPDATE OF updated_at ON labels WHEN NEW.updated_at IS NOT OLD.updated_at BEGIN INSERT INTO label_updates (label_id, project_id) VALUES (NEW.id, NEW.project_id); INSERT OR REPLACE INTO label_changes (label_id, seq) VALUES (NEW.id, last_insert_rowid()); END;
CREATE TABLE run_keys (
	key_hash TEXT NOT NULL, 
	id TEXT, 
	user_id TEXT, 
	created_at TEXT, 
	expires_at FLOAT, 
	PRIMARY KEY (key_hash), 
	UNIQUE (id)
);
CREATE INDEX run_keys_user ON run_keys (user_id);
CREATE TABLE fault_counts (
	name TEXT NOT NULL, 
	n INTEGER NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE rate_buckets (
	"key" TEXT NOT NULL, 
	tokens FLOAT NOT NULL, 
	at FLOAT NOT NULL, 
	PRIMARY KEY ("key")
);
CREATE TABLE server_processes (
	token TEXT NOT NULL, 
	alive_at FLOAT NOT NULL, 
	PRIMARY KEY (token)
);
