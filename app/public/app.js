/* global document, location */
// The board page: loads the board, messages and activity over the JSON API and keeps them live over /ws.

const $ = (selector, root = document) => root.querySelector(selector);
const boardEl = $('#board');
const messagesEl = $('#messages');
const activitiesEl = $('#activities');
const statusEl = $('#status');
const errorEl = $('#error');
const FEED_SIZE = 50;

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return undefined;
  const data = await response.json().catch(() => undefined);
  if (!response.ok) {
    const detail = data?.error?.details?.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ');
    throw new Error(`${data?.error?.message ?? `HTTP ${response.status}`}${detail ? ` (${detail})` : ''}`);
  }
  return data;
}

function showError(error) {
  errorEl.textContent = error ? error.message : '';
  errorEl.hidden = !error;
}

// Runs a user action. Other pages learn of it over the WebSocket; this one also reloads at once.
async function act(work) {
  try {
    showError(undefined);
    await work();
  } catch (error) {
    showError(error);
  }
}

function field(form, name) {
  return form.elements.namedItem(name);
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function formatTime(iso) {
  return new Date(iso).toLocaleString();
}

// --- board -------------------------------------------------------------------------------------

let dragged;

function dropIndex(list, clientY) {
  const others = [...list.children].filter((child) => child.dataset.id !== String(dragged?.id));
  return others.filter((child) => {
    const box = child.getBoundingClientRect();
    return box.top + box.height / 2 < clientY;
  }).length;
}

function renderTask(task) {
  const li = element('li', 'task');
  li.draggable = true;
  li.dataset.id = String(task.id);
  li.title = task.description;
  li.append(element('span', '', task.title));
  const remove = element('button', '', '×');
  remove.title = 'Delete task';
  remove.addEventListener('click', () =>
    act(async () => {
      await api('DELETE', `/api/kanban/tasks/${task.id}`);
      reloadBoardSoon();
    }),
  );
  li.append(remove);
  li.addEventListener('dragstart', (event) => {
    dragged = task;
    li.classList.add('dragging');
    event.dataTransfer.effectAllowed = 'move';
    // Firefox starts a drag only when some data is set.
    event.dataTransfer.setData('text/plain', task.title);
  });
  li.addEventListener('dragend', () => {
    dragged = undefined;
    li.classList.remove('dragging');
  });
  return li;
}

function renderColumn(column) {
  const section = $('#column-template').content.firstElementChild.cloneNode(true);
  section.dataset.id = String(column.id);
  $('h3', section).textContent = column.title;
  $('.delete-column', section).addEventListener('click', () => {
    if (column.tasks.length === 0 || document.defaultView.confirm(`Delete “${column.title}” and its ${column.tasks.length} tasks?`)) {
      act(async () => {
        await api('DELETE', `/api/kanban/columns/${column.id}`);
        reloadBoardSoon();
      });
    }
  });
  const list = $('.tasks', section);
  list.append(...column.tasks.map(renderTask));
  list.addEventListener('dragover', (event) => {
    if (!dragged) return;
    event.preventDefault();
    list.classList.add('drop-target');
  });
  list.addEventListener('dragleave', () => list.classList.remove('drop-target'));
  list.addEventListener('drop', (event) => {
    event.preventDefault();
    list.classList.remove('drop-target');
    if (!dragged) return;
    const body = { columnId: column.id, position: dropIndex(list, event.clientY) };
    const id = dragged.id;
    act(async () => {
      await api('PATCH', `/api/kanban/tasks/${id}`, body);
      reloadBoardSoon();
    });
  });
  $('.new-task', section).addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const title = field(form, 'title').value;
    act(async () => {
      await api('POST', '/api/kanban/tasks', { columnId: column.id, title });
      form.reset();
      // A live update may have redrawn the form while the request ran, keeping this title as a draft.
      const current = taskInput(column.id);
      if (current?.value === title) current.value = '';
      reloadBoardSoon();
    });
  });
  return section;
}

// The "New task" input of a column as it is on the page now.
function taskInput(columnId) {
  const section = $(`.column[data-id="${columnId}"]`, boardEl);
  return section ? field($('.new-task', section), 'title') : undefined;
}

// What is typed in each column's "New task" input, and where the cursor is, so that a redraw keeps them.
function taskDrafts() {
  return [...boardEl.querySelectorAll('.column')].map((section) => {
    const input = taskInput(section.dataset.id);
    const focused = input === document.activeElement;
    return { columnId: section.dataset.id, value: input.value, focused, selection: [input.selectionStart, input.selectionEnd] };
  });
}

function restoreTaskDrafts(drafts) {
  for (const draft of drafts) {
    const input = taskInput(draft.columnId);
    if (!input) continue;
    input.value = draft.value;
    if (draft.focused) {
      input.focus();
      input.setSelectionRange(...draft.selection);
    }
  }
}

async function loadBoard() {
  const board = await api('GET', '/api/kanban/columns');
  // Changes made by others redraw the board too: what someone is typing in it must survive that.
  const drafts = taskDrafts();
  boardEl.replaceChildren(...board.map(renderColumn));
  restoreTaskDrafts(drafts);
  if (board.length === 0) boardEl.append(element('p', 'meta', 'No columns yet: add one below.'));
}

// Several kanban events in a row (a move shifts many tasks) cause one reload.
let boardReload;
function reloadBoardSoon() {
  clearTimeout(boardReload);
  boardReload = setTimeout(() => loadBoard().catch(showError), 50);
}

// --- feeds -------------------------------------------------------------------------------------

function prepend(list, id, li) {
  if ($(`[data-id="${id}"]`, list)) return;
  li.dataset.id = String(id);
  list.prepend(li);
  while (list.children.length > FEED_SIZE) list.lastElementChild.remove();
}

function renderMessage(message) {
  const li = element('li');
  li.append(element('div', 'meta', `${message.author} · ${formatTime(message.createdAt)}`), element('div', '', message.body));
  return li;
}

function describe(activity) {
  const { type, payload } = activity;
  const [entity, verb] = type.split('.');
  if (entity === 'message') return `${payload.author} posted a message`;
  const name = entity === 'column' ? 'Column' : 'Task';
  return `${name} “${payload.title ?? activity.entityId}” ${verb}`;
}

function renderActivity(activity) {
  const li = element('li');
  li.append(element('span', 'meta', `${formatTime(activity.createdAt)} `), element('span', '', describe(activity)));
  return li;
}

async function loadFeeds() {
  const [messages, activities] = await Promise.all([api('GET', '/api/messages?limit=50'), api('GET', '/api/activities?limit=50')]);
  messagesEl.replaceChildren();
  for (const message of messages.reverse()) prepend(messagesEl, message.id, renderMessage(message));
  activitiesEl.replaceChildren();
  for (const activity of activities.reverse()) prepend(activitiesEl, activity.id, renderActivity(activity));
}

// --- live updates ------------------------------------------------------------------------------

function setStatus(state, text) {
  statusEl.dataset.state = state;
  statusEl.textContent = text;
}

function loadAll() {
  Promise.all([loadBoard(), loadFeeds()]).catch(showError);
}

let connectedBefore = false;

function connect(attempt = 0) {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  ws.addEventListener('open', () => {
    attempt = 0;
    setStatus('live', 'live');
    // Catch up on whatever happened while disconnected.
    if (connectedBefore) loadAll();
    connectedBefore = true;
  });
  ws.addEventListener('message', (event) => {
    const { type, data, activity } = JSON.parse(event.data);
    if (type === 'message.created') prepend(messagesEl, data.id, renderMessage(data));
    else reloadBoardSoon();
    if (activity) prepend(activitiesEl, activity.id, renderActivity(activity));
  });
  ws.addEventListener('close', () => {
    const delay = Math.min(1000 * 2 ** attempt, 15000);
    setStatus('offline', `offline, retrying in ${Math.round(delay / 1000)} s`);
    setTimeout(() => connect(attempt + 1), delay);
  });
}

$('#new-column').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const title = field(form, 'title').value;
  act(async () => {
    await api('POST', '/api/kanban/columns', { title });
    form.reset();
    reloadBoardSoon();
  });
});

$('#new-message').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const author = field(form, 'author').value;
  const body = field(form, 'body').value;
  act(async () => {
    const message = await api('POST', '/api/messages', { author, body });
    prepend(messagesEl, message.id, renderMessage(message));
    field(form, 'body').value = '';
  });
});

loadAll();
connect();
