-- migrate:up
CREATE TABLE messages (
  id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  author     text        NOT NULL CHECK (length(author) BETWEEN 1 AND 100),
  body       text        NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The feed is read newest first and paged with `before=<id>`.
CREATE INDEX messages_created_at_idx ON messages (created_at DESC, id DESC);

-- migrate:down
DROP TABLE messages;
