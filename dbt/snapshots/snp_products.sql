{# SCD2 history of product price, category and stock status, dated by the source's updated_at. #}
{% snapshot snp_products %}
    {{ config(target_schema='CORE', unique_key='product_id', strategy='timestamp', updated_at='updated_at') }}
    select
        product_id,
        merchant_id,
        price,
        category,
        case when stock_quantity > 0 then 'in stock' else 'out of stock' end as stock_status,
        updated_at
    from {{ ref('stg_products') }}
{% endsnapshot %}
