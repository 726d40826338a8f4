"""Issue documents in bulk from the command line: a CSV with a ZIP of PDFs, or JSON Lines of
transcripts. The job runs in the foreground with a progress bar, then the summary and the
path of the rejected rows' report are printed. `--resume JOB` finishes a job whose worker
stopped (a restarted server, a killed process)."""

import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from credshare.accounts.selectors import user_with_email
from credshare.documents import bulk
from credshare.documents.models import IssuanceJob
from credshare.network.models import Organization

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Issue documents in bulk: a CSV with a ZIP of PDFs, or JSON Lines of transcripts."

    def add_arguments(self, parser):
        parser.add_argument("--issuer", help="The issuing organization's slug.")
        parser.add_argument("--rows", type=Path, help="The CSV or JSON Lines (.jsonl) file.")
        parser.add_argument("--pdfs", type=Path, help="With a CSV: the ZIP of its PDFs.")
        parser.add_argument("--by", help="The email of the staff member the job is issued by.")
        parser.add_argument("--report", type=Path, help="Where to write the rejected rows.")
        parser.add_argument("--resume", help="Resume the job with this id instead.")

    def handle(self, *args, **options):
        if options["resume"]:
            try:
                job = IssuanceJob.objects.get(public_id=options["resume"])
            except (IssuanceJob.DoesNotExist, ValueError, ValidationError) as error:
                raise CommandError(f"No bulk job {options['resume']}") from error
            report = options["report"] or Path(f"rejected-{job.public_id}.csv")
        else:
            job = self._create(options)
            rows = options["rows"]
            report = options["report"] or rows.with_name(f"{rows.stem}.rejected.csv")
        self.stdout.write(f"Job {job.public_id}: {job.total} rows")
        self._run(job)
        job.refresh_from_db()
        progress = bulk.issuance_job_progress(job=job)
        self.stdout.write(
            f"Done in {bulk.format_seconds(_elapsed(job))}: {progress['issued']} issued, "
            f"{progress['rejected']} rejected, {progress['remaining']} remaining "
            f"({progress['rate']:.1f} rows/s)."
        )
        if progress["rejected"]:
            report.write_text(bulk.issuance_rejections_csv(job=job), encoding="utf-8")
            self.stdout.write(f"Rejected rows and their reasons: {report}")
        else:
            self.stdout.write("No row was rejected.")

    def _create(self, options) -> IssuanceJob:
        if not options["issuer"] or not options["rows"]:
            raise CommandError("--issuer and --rows are required (or --resume JOB).")
        issuer = Organization.objects.filter(slug=options["issuer"], is_issuer=True).first()
        if issuer is None:
            raise CommandError(f"No issuing organization {options['issuer']!r}.")
        by = None
        if options["by"]:
            by = user_with_email(options["by"])
            if by is None:
                raise CommandError(f"No account {options['by']!r}.")
        for path in (options["rows"], options["pdfs"]):
            if path is not None and not path.is_file():
                raise CommandError(f"No file {path}.")
        with options["rows"].open("rb") as rows:
            archive = options["pdfs"].open("rb") if options["pdfs"] else None
            try:
                return bulk.issuance_job_create(
                    issuer=issuer,
                    created_by=by,
                    rows_file=File(rows, name=options["rows"].name),
                    pdf_archive=File(archive, name=options["pdfs"].name) if archive else None,
                )
            except bulk.BulkRejected as refusal:
                raise CommandError(refusal.message) from refusal
            finally:
                if archive is not None:
                    archive.close()

    def _run(self, job: IssuanceJob) -> None:
        start = bulk.issuance_job_progress(job=job)
        already, total = start["done"], start["total"]
        began = time.monotonic()
        state = {"rows": -1, "shown": 0.0}

        def show(final: bool = False) -> None:
            done = already + max(state["rows"], 0)
            elapsed = time.monotonic() - began
            rate = max(state["rows"], 0) / elapsed if elapsed > 0 else 0.0
            left = (total - done) / rate if rate > 0 else None
            filled = int(BAR_WIDTH * done / total) if total else BAR_WIDTH
            line = (
                f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} "
                f"{rate:6.1f} rows/s  ETA {bulk.format_seconds(0 if final else left)}"
            )
            self.stdout.write(line, ending="\n" if final else "")
            self.stdout.flush()

        def stop() -> bool:
            # Called before each row: the rows processed so far are the calls before this one.
            state["rows"] += 1
            now = time.monotonic()
            if now - state["shown"] >= 0.2:
                state["shown"] = now
                show()
            return False

        try:
            bulk.issuance_job_process(job_id=job.pk, stop=stop)
        except KeyboardInterrupt:
            self.stdout.write("")
            raise CommandError(
                f"Interrupted: resume with manage.py issue_bulk --resume {job.public_id}"
            ) from None
        state["rows"] = max(state["rows"], 0)
        show(final=True)


def _elapsed(job: IssuanceJob) -> float | None:
    if job.started_at is None or job.finished_at is None:
        return None
    return (job.finished_at - job.started_at).total_seconds()
