# mask-rcnn_r50_fpn_eql_random-ms-1x_lvis-v0.5 with ResNet-101, repeat factor sampling (t = 1e-3).
_base_ = './mask-rcnn_r50_fpn_eql_sample1e-3-ms-1x_lvis-v0.5.py'
model = dict(backbone=dict(depth=101, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')))
