"""The connector SDK: read an increment, map, validate, protect PII, encode, publish, advance.

A connector is one YAML file (see `ConnectorConfig`) naming a source, a record type and a
column mapping; a new source system needs one .avsc, one record module and one YAML::

    name: registry-person-csv
    record: registry.person
    source: {kind: csv, path: persons.csv}
    mapping: {resident_id: 身份证号, name: 姓名, sex: 性别, birth_date: 出生日期}
    values: {sex: {男: "1", 女: "2"}}

    $ carehub connect run registry-person.yaml --once
"""
