"""Demo stores: 33 around Lima and Callao, a few in Arequipa, Cusco and Trujillo, with Peru's public
holidays. Addresses are real streets; the stores are invented."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TextIO

from dateutil.easter import easter

from vigencia.accounts.models import User
from vigencia.core import clock
from vigencia.stores.hours import hours_parse
from vigencia.stores.models import Holiday, Store, StoreAgent
from vigencia.stores.services import store_upsert

OFFICE = "mon-fri 09:00-20:00; sat 10:00-14:00"
MALL = "daily 10:00-22:00"
STREET = "mon-sat 08:30-19:30; sun 09:00-13:00"
LATE = "mon-thu 10:00-22:00; fri-sat 10:00-02:00; sun 12:00-20:00"
ALWAYS = "daily 00:00-24:00"
LUNCH = "mon-fri 09:00-13:00 14:30-18:30; sat 09:00-13:00"

ALL = "claro-pe|movistar-pe|entel-pe|bitel-pe"
EVERYTHING = "renewal|sim_sale|voucher_redeem|id_check"
RENEW = "renewal|voucher_redeem"

# code, name, address, district, city, lat, lng, carriers, services, phone, hours
# fmt: off
STORES: list[tuple[str, str, str, str, str, float, float, str, str, str, str]] = [
    ("LIM-MIR-01", "Vigencia Miraflores Larco", "Av. José Larco 345", "Miraflores", "Lima", -12.12195, -77.02965, ALL, EVERYTHING, "01 445 2101", MALL),
    ("LIM-MIR-02", "Vigencia Benavides", "Av. Alfredo Benavides 1180", "Miraflores", "Lima", -12.1266, -77.0223, ALL, RENEW, "01 445 2102", OFFICE),
    ("LIM-MIR-03", "Punto Claro Óvalo Gutiérrez", "Av. Santa Cruz 814", "Miraflores", "Lima", -12.1106, -77.0367, "claro-pe", EVERYTHING, "01 445 2103", STREET),
    ("LIM-SIS-01", "Vigencia Rivera Navarrete", "Av. Rivera Navarrete 501", "San Isidro", "Lima", -12.0925, -77.0225, ALL, EVERYTHING, "01 441 3101", OFFICE),
    ("LIM-SIS-02", "Vigencia Camino Real", "Av. Camino Real 1234", "San Isidro", "Lima", -12.0985, -77.0365, "claro-pe|movistar-pe", RENEW, "01 441 3102", LUNCH),
    ("LIM-SIS-03", "Punto Movistar Conquistadores", "Av. Conquistadores 820", "San Isidro", "Lima", -12.103, -77.034, "movistar-pe", "renewal|sim_sale", "01 441 3103", STREET),
    ("LIM-SUR-01", "Vigencia Chacarilla", "Av. Primavera 1050", "Santiago de Surco", "Lima", -12.1105, -76.992, ALL, EVERYTHING, "01 372 4101", STREET),
    ("LIM-SUR-02", "Vigencia Jockey Plaza", "Av. Javier Prado Este 4200", "Santiago de Surco", "Lima", -12.0853, -76.977, ALL, EVERYTHING, "01 372 4102", MALL),
    ("LIM-SUR-03", "Punto Entel Caminos del Inca", "Av. Caminos del Inca 257", "Santiago de Surco", "Lima", -12.13, -76.99, "entel-pe", RENEW, "01 372 4103", OFFICE),
    ("LIM-SBO-01", "Vigencia San Luis", "Av. San Luis 2400", "San Borja", "Lima", -12.093, -76.996, ALL, RENEW, "01 475 5101", STREET),
    ("LIM-SBO-02", "Vigencia Aviación", "Av. Aviación 2850", "San Borja", "Lima", -12.089, -77.003, "claro-pe|bitel-pe", EVERYTHING, "01 475 5102", LATE),
    ("LIM-MOL-01", "Vigencia La Molina", "Av. La Molina 1100", "La Molina", "Lima", -12.08, -76.94, ALL, EVERYTHING, "01 368 6101", OFFICE),
    ("LIM-MOL-02", "Punto Bitel Raúl Ferrero", "Av. Raúl Ferrero 1205", "La Molina", "Lima", -12.084, -76.918, "bitel-pe", RENEW, "01 368 6102", STREET),
    ("LIM-LIN-01", "Vigencia Arequipa Lince", "Av. Arequipa 2450", "Lince", "Lima", -12.084, -77.034, ALL, EVERYTHING, "01 422 7101", OFFICE),
    ("LIM-LIN-02", "Punto Claro César Vallejo", "Av. César Vallejo 1230", "Lince", "Lima", -12.086, -77.041, "claro-pe", RENEW, "01 422 7102", LUNCH),
    ("LIM-JMA-01", "Vigencia Salaverry", "Av. General Salaverry 1845", "Jesús María", "Lima", -12.077, -77.047, ALL, EVERYTHING, "01 433 8101", STREET),
    ("LIM-JMA-02", "Punto Entel Brasil", "Av. Brasil 1500", "Jesús María", "Lima", -12.072, -77.051, "entel-pe|movistar-pe", RENEW, "01 433 8102", OFFICE),
    ("LIM-BAR-01", "Vigencia Barranco Grau", "Av. Almirante Miguel Grau 320", "Barranco", "Lima", -12.148, -77.021, ALL, EVERYTHING, "01 247 9101", LATE),
    ("LIM-BAR-02", "Punto Movistar Bajada de Baños", "Av. Pedro de Osma 102", "Barranco", "Lima", -12.1495, -77.0225, "movistar-pe", RENEW, "01 247 9102", STREET),
    ("LIM-CHO-01", "Vigencia Huaylas", "Av. Defensores del Morro 1250", "Chorrillos", "Lima", -12.172, -77.015, ALL, EVERYTHING, "01 251 1101", STREET),
    ("LIM-CHO-02", "Punto Bitel Matellini", "Av. Guardia Civil 870", "Chorrillos", "Lima", -12.178, -77.011, "bitel-pe|claro-pe", RENEW, "01 251 1102", OFFICE),
    ("LIM-SMI-01", "Vigencia Plaza San Miguel", "Av. La Marina 2000", "San Miguel", "Lima", -12.077, -77.083, ALL, EVERYTHING, "01 263 2101", MALL),
    ("LIM-SMI-02", "Punto Claro Universitaria", "Av. Universitaria 1250", "San Miguel", "Lima", -12.08, -77.08, "claro-pe", RENEW, "01 263 2102", STREET),
    ("LIM-OLI-01", "Vigencia Los Olivos Izaguirre", "Av. Carlos Izaguirre 300", "Los Olivos", "Lima", -11.991, -77.072, ALL, EVERYTHING, "01 521 3101", STREET),
    ("LIM-OLI-02", "Punto Entel Mendiola", "Av. Alfredo Mendiola 3698", "Los Olivos", "Lima", -11.994, -77.061, "entel-pe|bitel-pe", RENEW, "01 521 3102", MALL),
    ("LIM-SJL-01", "Vigencia Próceres", "Av. Próceres de la Independencia 1632", "San Juan de Lurigancho", "Lima", -11.992, -77.005, ALL, EVERYTHING, "01 388 4101", STREET),
    ("LIM-SJL-02", "Punto Bitel Gran Chimú", "Av. Gran Chimú 600", "San Juan de Lurigancho", "Lima", -12.025, -77.005, "bitel-pe", RENEW, "01 388 4102", LUNCH),
    ("LIM-CAL-01", "Vigencia Callao Sáenz Peña", "Av. Sáenz Peña 500", "Callao", "Callao", -12.056, -77.137, ALL, EVERYTHING, "01 429 5101", STREET),
    ("LIM-CAL-02", "Vigencia Aeropuerto Jorge Chávez", "Av. Elmer Faucett s/n, Terminal", "Callao", "Callao", -12.0219, -77.1143, ALL, EVERYTHING, "01 517 3100", ALWAYS),
    ("LIM-CAL-03", "Punto Movistar Faucett", "Av. Elmer Faucett 2500", "Callao", "Callao", -12.045, -77.105, "movistar-pe|claro-pe", RENEW, "01 429 5103", OFFICE),
    ("LIM-CER-01", "Vigencia Jirón de la Unión", "Jr. de la Unión 600", "Cercado de Lima", "Lima", -12.049, -77.034, ALL, EVERYTHING, "01 427 6101", STREET),
    ("LIM-CER-02", "Punto Claro Abancay", "Av. Abancay 210", "Cercado de Lima", "Lima", -12.05, -77.029, "claro-pe|entel-pe", RENEW, "01 427 6102", OFFICE),
    ("LIM-PLI-01", "Vigencia Pueblo Libre", "Av. Sucre 1100", "Pueblo Libre", "Lima", -12.076, -77.064, ALL, RENEW, "01 461 7101", LUNCH),
    ("AQP-CER-01", "Vigencia Arequipa Mercaderes", "Calle Mercaderes 130", "Cercado", "Arequipa", -16.399, -71.536, ALL, EVERYTHING, "054 201234", STREET),
    ("AQP-CAY-01", "Punto Claro Cayma", "Av. Ejército 710", "Cayma", "Arequipa", -16.391, -71.545, "claro-pe|bitel-pe", RENEW, "054 251234", OFFICE),
    ("CUS-CER-01", "Vigencia Cusco El Sol", "Av. El Sol 330", "Cusco", "Cusco", -13.52, -71.977, ALL, EVERYTHING, "084 231234", STREET),
    ("CUS-WAN-01", "Punto Movistar Wanchaq", "Av. de la Cultura 1200", "Wanchaq", "Cusco", -13.526, -71.959, "movistar-pe|entel-pe", RENEW, "084 241234", OFFICE),
    ("TRU-CER-01", "Vigencia Trujillo Pizarro", "Jr. Pizarro 520", "Trujillo", "Trujillo", -8.111, -79.029, ALL, EVERYTHING, "044 201234", STREET),
    ("TRU-VLH-01", "Punto Bitel América Sur", "Av. América Sur 3145", "Víctor Larco Herrera", "Trujillo", -8.128, -79.031, "bitel-pe|claro-pe", RENEW, "044 281234", MALL),
]
# fmt: on

# Peru's national holidays on fixed dates (month, day, name); Holy Thursday and Good Friday follow Easter.
FIXED_HOLIDAYS = [
    (1, 1, "Año Nuevo"),
    (5, 1, "Día del Trabajo"),
    (6, 7, "Batalla de Arica y Día de la Bandera"),
    (6, 29, "San Pedro y San Pablo"),
    (7, 23, "Día de la Fuerza Aérea"),
    (7, 28, "Fiestas Patrias"),
    (7, 29, "Fiestas Patrias"),
    (8, 6, "Batalla de Junín"),
    (8, 30, "Santa Rosa de Lima"),
    (10, 8, "Combate de Angamos"),
    (11, 1, "Todos los Santos"),
    (12, 8, "Inmaculada Concepción"),
    (12, 9, "Batalla de Ayacucho"),
    (12, 25, "Navidad"),
]
DEMO_AGENT = "agent@demo.vigencia.pe"
DEMO_AGENT_STORE = "LIM-MIR-01"

# The airport store never closes: its own row overrides the all-stores holiday.
ALWAYS_OPEN = "LIM-CAL-02"


def peru_holidays(year: int) -> list[tuple[date, str]]:
    sunday = easter(year)
    movable = [(sunday - timedelta(days=3), "Jueves Santo"), (sunday - timedelta(days=2), "Viernes Santo")]
    return sorted([(date(year, month, day), name) for month, day, name in FIXED_HOLIDAYS] + movable)


def seed(out: TextIO) -> None:
    for code, name, address, district, city, lat, lng, carriers, services, phone, hours in STORES:
        store_upsert(
            code=code,
            name=name,
            address=address,
            district=district,
            city=city,
            latitude=lat,
            longitude=lng,
            carrier_codes=carriers.split("|"),
            services=services.split("|"),
            phone=phone,
            hours=hours_parse(hours),
        )
    airport = Store.objects.get(code=ALWAYS_OPEN)
    this_year = clock.today().year
    for year in (this_year, this_year + 1):
        for day, holiday_name in peru_holidays(year):
            Holiday.objects.update_or_create(
                date=day, store=None, defaults={"name": holiday_name, "closed": True}
            )
            Holiday.objects.update_or_create(
                date=day, store=airport, defaults={"name": holiday_name, "closed": False}
            )
    _seed_counter()
    out.write(
        f"stores: {Store.objects.count()} stores, {Holiday.objects.filter(store=None).count()} holidays, "
        f"agent {DEMO_AGENT} at {DEMO_AGENT_STORE}\n"
    )


def _seed_counter() -> None:
    """The demo agent sells at Miraflores Larco (operators' store permissions come with their role)."""
    agent = User.objects.filter(email=DEMO_AGENT).first()
    store = Store.objects.filter(code=DEMO_AGENT_STORE).first()
    if agent is not None and store is not None:
        StoreAgent.objects.update_or_create(user=agent, defaults={"store": store, "active": True})
