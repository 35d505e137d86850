-- migrate:up
CREATE TABLE kanban_columns (
  id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  title      text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  position   integer     NOT NULL CHECK (position >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- Deferred so that a reorder can shift several rows inside one transaction.
  CONSTRAINT kanban_columns_position_key UNIQUE (position) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE kanban_tasks (
  id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  column_id   integer     NOT NULL REFERENCES kanban_columns (id) ON DELETE CASCADE,
  title       text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  description text        NOT NULL DEFAULT '',
  position    integer     NOT NULL CHECK (position >= 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT kanban_tasks_column_position_key UNIQUE (column_id, position) DEFERRABLE INITIALLY DEFERRED
);

-- migrate:down
DROP TABLE kanban_tasks;
DROP TABLE kanban_columns;
