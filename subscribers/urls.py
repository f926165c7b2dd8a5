app_name = "subscribers"
urlpatterns = []
