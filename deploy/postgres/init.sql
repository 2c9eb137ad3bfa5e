-- One database per service (design §1), created on the compose cluster's first start.
CREATE DATABASE auth;
CREATE DATABASE projects;
CREATE DATABASE commerce;
CREATE DATABASE analytics;
CREATE DATABASE webhooks;
