"""/api/: the schema, its documentation and version 1 of the API; anything else under /api/
is a problem detail 404, not the site's HTML page."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from api import problems, views

app_name = "api"

router = SimpleRouter()
router.register("units", views.UnitViewSet, basename="unit")
router.register("plans", views.PlanViewSet, basename="plan")
router.register("targets", views.TargetViewSet, basename="target")
router.register("entries", views.EntryViewSet, basename="entry")
router.register("alerts", views.AlertViewSet, basename="alert")
router.register("projects", views.ProjectViewSet, basename="project")

v1 = [
    path("targets/<str:code>/assessments/", views.AssessmentList.as_view(),
         name="target-assessments"),
    *router.urls,
]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The page and its script are two requests: the site's CSP allows no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("v1/", include(v1)),
    re_path(r"^", problems.not_found),
]
