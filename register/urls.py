from django.urls import path

from register import import_views, views_pipeline, views_project, views_review
from register.views import RegisterView

app_name = "register"

urlpatterns = [
    path("", RegisterView.as_view(), name="projects"),
    path("pipeline/", views_pipeline.PipelineView.as_view(), name="pipeline"),
    path("projects/<str:code>/", views_project.project_page, name="project"),
    path("reports/review/", views_review.review_reports, name="review-reports"),
    path("reports/<int:pk>/review/", views_review.review_report, name="review-report"),
    path("reports/<int:pk>/approve/", views_review.approve_report, name="approve-report"),
    path("reports/<int:pk>/return/", views_review.return_report, name="return-report"),
    path("import/", import_views.register_import, name="import"),
    path("import/confirm/", import_views.register_import_confirm, name="import-confirm"),
    path("import/template/<str:kind>.<str:fmt>", import_views.register_import_template,
         name="import-template"),
]
