from django.urls import path

from targets.views import (
    alerts,
    completeness,
    entries,
    explanations,
    imports,
    reports,
    review,
    status,
    targets,
)

app_name = "targets"

urlpatterns = [
    path("", status.StatusTableView.as_view(), name="status"),
    path("targets/<str:code>/", targets.target_page, name="target"),
    path("targets/<str:code>/report/", entries.report, name="report"),
    path(
        "targets/<str:code>/explanations/ask/", explanations.explanation_ask,
        name="explanation-ask",
    ),
    path(
        "explanations/<int:pk>/answer/", explanations.explanation_answer,
        name="explanation-answer",
    ),
    path(
        "explanations/<int:pk>/accept/", explanations.explanation_accept,
        name="explanation-accept",
    ),
    path(
        "explanations/<int:pk>/ask-again/", explanations.explanation_ask_again,
        name="explanation-ask-again",
    ),
    path(
        "explanations/answers/<int:pk>/evidence/", explanations.explanation_evidence,
        name="explanation-evidence",
    ),
    path("entries/", entries.enter_progress, name="enter"),
    path("entries/<int:pk>/evidence/", entries.evidence, name="evidence"),
    path("entries/<int:pk>/evidence/shown/", entries.evidence_shown, name="evidence_shown"),
    path("completeness/", completeness.completeness, name="completeness"),
    path("completeness/remind/", completeness.remind, name="completeness-remind"),
    path("review/", review.review_queue, name="review"),
    path("review/<int:pk>/", review.review_entry, name="review-entry"),
    path("review/<int:pk>/approve/", review.approve_entry, name="approve"),
    path("review/<int:pk>/return/", review.return_entry, name="return"),
    path("import/", imports.import_entries, name="import"),
    path("import/confirm/", imports.import_confirm, name="import-confirm"),
    path(
        "import/template.<str:fmt>", imports.import_template, name="import-template",
    ),
    path("reports/", reports.periodic_report, name="periodic-report"),
    path("alerts/", alerts.alert_list, name="alerts"),
    path("alerts/read-all/", alerts.alert_mark_all_read, name="alerts-read-all"),
    path("alerts/<int:pk>/read/", alerts.alert_mark_read, name="alert-read"),
    path("alerts/<int:pk>/acknowledge/", alerts.alert_acknowledge, name="alert-acknowledge"),
]
