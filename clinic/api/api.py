from ninja import NinjaAPI

api = NinjaAPI(title="KetaCare API", version="1")
