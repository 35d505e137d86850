-- migrate:up
CREATE TABLE activities (
  id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type        text        NOT NULL CHECK (type ~ '^[a-z]+\.[a-z]+$'),
  entity_type text        NOT NULL,
  entity_id   integer     NOT NULL,
  payload     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX activities_created_at_idx ON activities (created_at DESC, id DESC);
CREATE INDEX activities_entity_idx ON activities (entity_type, entity_id);

-- migrate:down
DROP TABLE activities;
