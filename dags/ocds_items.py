"""Airflow DAG — OCDS items: items, UPC items, images, related items and item/location ranging."""

from retail_provider.ocds.dags import EndpointTask, build_ocds_dag

dag = build_ocds_dag(
    "ocds_items",
    title="OCDS items",
    summary="Item master data from Oracle Retail OCDS: items, UPCs, images, related items, ranging.",
    cron="15 * * * *",
    tags=["items"],
    tasks=[
        EndpointTask("item"),
        EndpointTask("item_upc"),
        EndpointTask("item_image"),
        EndpointTask("item_relateditem"),
        EndpointTask("item_itemlocation"),
    ],
)
