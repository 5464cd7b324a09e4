"""The local cloud: moto on loopback plus this project's own Lambda and Batch runtime.

It deploys template.yaml unchanged (translated with aws-sam-translator, created in moto's
CloudFormation), runs the real handlers under functions/ wherever AWS would, and runs Batch jobs as
local processes that emit the same state-change events AWS Batch does.
"""
