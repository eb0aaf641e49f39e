"""App-wide setup: the store, logging, the project picker and the error guard."""

from __future__ import annotations

import logging
import tempfile
import uuid
from logging.handlers import RotatingFileHandler
from pathlib import Path

import sqlalchemy as sa
import streamlit as st

from core import jobs, portable, store
from core.config import settings
from core.errors import AssayError
from ui.text import md

log = logging.getLogger("assay.ui")

PROJECT_KEY = "assay.project_id"


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> sa.Engine:
    home = settings().home
    home.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(home / "assay.log", maxBytes=5_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger("assay")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    from ui.loading import clean_spills

    clean_spills()
    return store.init_store(url)


def engine() -> sa.Engine:
    """The store's engine, migrated once per process."""
    return _engine_for(settings().database_url)


def reap_jobs() -> None:
    """Mark jobs whose worker died as failed (cheap when nothing is running)."""
    with store.read_session(engine()) as s:
        active = s.scalar(sa.select(sa.func.count()).select_from(store.Job).where(store.Job.status.in_(jobs.ACTIVE)))
    if active:
        with store.write_session(engine()) as s:
            jobs.reap_stale(s)


def show_error(exc: AssayError) -> None:
    """Show a user error; its text (which may quote column names) is never rendered as Markdown."""
    st.error(md(exc), icon=":material/error:")


def guard(page: st.navigation) -> None:
    """Run a page: user errors show their message; bugs show an apology with an id."""
    try:
        page.run()
    except AssayError as exc:
        show_error(exc)
    except Exception:  # noqa: BLE001 - anything else is a bug: log it, never show a traceback
        incident = uuid.uuid4().hex[:8]
        log.exception("unexpected error on page %s (incident %s)", getattr(page, "title", "?"), incident)
        st.error(
            f"Sorry, something went wrong on this page (incident {incident}). Your saved work is unchanged. "
            "Try again; if it keeps happening, report the incident id.",
            icon=":material/sentiment_dissatisfied:",
        )


# --------------------------------------------------------------------------- users

LOCAL_ADDRESSES = ("localhost", "127.0.0.1", "::1", "")


def check_binding() -> None:
    """Without authentication, refuse to serve anyone but this machine."""
    address = str(st.get_option("server.address") or "")
    if settings().auth == "none" and address not in LOCAL_ADDRESSES:
        st.error(
            f"Assay is listening on {address!r} without authentication, so anyone on the network could open "
            "every project. It stopped here.",
            icon=":material/lock:",
        )
        st.info("Bind to localhost (the default), or set ASSAY_AUTH=header behind a trusted proxy or "
                "ASSAY_AUTH=oidc with Streamlit's login; see the README's Team mode section.")
        st.stop()


def current_user() -> str | None:
    """The signed-in user in team mode; None when authentication is off."""
    mode = settings().auth
    if mode == "none":
        return store.ANYONE
    if mode == "header":
        name = settings().auth_header
        value = (st.context.headers.get(name) or "").strip()
        if not value:
            st.error(f"This Assay expects the signed-in user in the {name!r} header from its proxy, and none came.",
                     icon=":material/lock:")
            st.info("Open Assay through the company's sign-in proxy.")
            st.stop()
        return value[:200]
    if not st.user.is_logged_in:
        st.title("Assay")
        st.info("Sign in to see your projects.")
        st.button("Sign in", on_click=st.login, type="primary")
        st.stop()
    return str(st.user.get("email") or st.user.get("sub"))[:200]


# --------------------------------------------------------------------------- projects


def current_project_id() -> int | None:
    return st.session_state.get(PROJECT_KEY)


def _select_project(project_id: int | None) -> None:
    st.session_state[PROJECT_KEY] = project_id
    if project_id is None:
        st.query_params.pop("project", None)
    else:
        st.query_params["project"] = str(project_id)
        with store.write_session(engine()) as s:
            store.touch_project(s, project_id)


def _initial_project(projects: list[store.Project]) -> int | None:
    """After a reload: the project in the URL, else the one opened last."""
    ids = {p.id for p in projects}
    wanted = st.query_params.get("project")
    if wanted and wanted.isdigit() and int(wanted) in ids:
        return int(wanted)
    with store.read_session(engine()) as s:
        last = store.last_opened_project(s, current_user())
    return last.id if last else None


def project_sidebar() -> store.Project | None:
    """The sidebar's project picker; returns the current project (or None)."""
    user = current_user()
    with store.read_session(engine()) as s:
        projects = store.list_projects(s, user)
    ids = [p.id for p in projects]
    current = current_project_id()
    if current not in ids:
        current = _initial_project(projects)
        _select_project(current)
    with st.sidebar:
        st.markdown("### Project")
        if user is not store.ANYONE:
            st.caption(f"Signed in as {md(user)}")
        if projects:
            names = {p.id: p.name for p in projects}
            chosen = st.selectbox(
                "Current project", ids, index=ids.index(current) if current in ids else 0,
                format_func=names.get, key="assay.project_picker", label_visibility="collapsed",
            )
            if chosen != current:
                _select_project(chosen)
                st.rerun()
        else:
            st.caption("No projects yet.")
        new_project_form("sidebar")
        if current is not None:
            _manage_project(next(p for p in projects if p.id == current))
    return next((p for p in projects if p.id == current), None)


def new_project_form(where: str) -> None:
    with st.popover("New project", icon=":material/add:", width="stretch") if where == "sidebar" \
            else st.container(border=True):
        _import_project_form(where)
        with st.form(f"assay.new_project.{where}", clear_on_submit=True, border=False):
            name = st.text_input("Project name", placeholder="e.g. Churn 2024", key=f"assay.new_name.{where}")
            if st.form_submit_button("Create project", type="primary"):
                try:
                    with store.write_session(engine()) as s:
                        project_id = store.create_project(s, name, owner=current_user()).id
                except AssayError as exc:
                    show_error(exc)
                    return
                _select_project(project_id)
                st.toast(f"Created project {name.strip()!r}")
                st.rerun()


def _import_project_form(where: str) -> None:
    uploaded = st.file_uploader(f"Import a project file ({portable.PROJECT_FILE_SUFFIX})",
                                type=[portable.PROJECT_FILE_SUFFIX.lstrip(".")], key=f"assay.import.{where}")
    if uploaded is None or not st.button("Import project", key=f"assay.import_go.{where}"):
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "incoming.assay"  # our name, never the user's
        path.write_bytes(uploaded.getbuffer())
        try:
            project_id = portable.import_project(engine(), path, owner=current_user())
        except AssayError as exc:
            show_error(exc)
            return
    _select_project(project_id)
    st.toast("Project imported")
    st.rerun()


def _export_bytes(project_id: int) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return portable.export_project(engine(), project_id, Path(tmp) / "project.assay",
                                       user=current_user()).read_bytes()


def _manage_project(project: store.Project) -> None:
    with st.popover("Manage project", icon=":material/settings:", width="stretch"):
        st.download_button(
            "Export project as a file", data=lambda: _export_bytes(project.id), on_click="ignore",
            file_name=portable.export_file_name(project.name), mime="application/vnd.sqlite3",
            icon=":material/download:", help="One SQLite file with the project's datasets, recipes, models "
            "and reports; import it on another Assay.",
        )
        st.divider()
        with st.form("assay.rename_project", border=False):
            new_name = st.text_input("New name", value=project.name)
            if st.form_submit_button("Rename"):
                try:
                    with store.write_session(engine()) as s:
                        store.rename_project(s, project.id, new_name, by=current_user())
                except AssayError as exc:
                    show_error(exc)
                else:
                    st.rerun()
        if current_user() is not store.ANYONE:
            _members(project)
        st.divider()
        st.markdown("**Delete this project** and everything in it.")
        confirm = st.text_input("Type the project's name to confirm", key="assay.delete_confirm")
        if st.button("Delete project", type="primary", disabled=confirm.strip() != project.name,
                     key="assay.delete_project"):
            try:
                with store.write_session(engine()) as s:
                    store.delete_project(s, project.id, by=current_user())
            except AssayError as exc:
                show_error(exc)
                return
            st.session_state.pop("assay.delete_confirm", None)
            _select_project(None)
            st.rerun()


def _members(project: store.Project) -> None:
    st.divider()
    st.markdown(f"**Owner:** {project.owner or 'nobody (made before sign-in was on)'}")
    members = [m.user for m in project.members]
    st.caption("Members: " + (", ".join(members) if members else "none yet"))
    with st.form("assay.members", border=False):
        who = st.text_input("User to add or remove (as the sign-in shows them)")
        add, remove = st.columns(2)
        try:
            if add.form_submit_button("Add member"):
                with store.write_session(engine()) as s:
                    store.add_member(s, project.id, who, by=current_user())
                st.rerun()
            if remove.form_submit_button("Remove member"):
                with store.write_session(engine()) as s:
                    store.remove_member(s, project.id, who.strip(), by=current_user())
                st.rerun()
        except AssayError as exc:
            show_error(exc)


def require_project() -> store.Project:
    """The current project, or a prompt to create one (and stop the page)."""
    project_id = current_project_id()
    if project_id is not None:
        with store.read_session(engine()) as s:
            try:
                return store.get_project(s, project_id, current_user())
            except AssayError:
                pass
    st.info("Create a project to start: it keeps your data, recipes, models and reports together.")
    new_project_form("main")
    st.stop()
