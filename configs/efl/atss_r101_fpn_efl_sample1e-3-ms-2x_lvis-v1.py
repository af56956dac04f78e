# atss_r50_fpn_efl_sample1e-3-ms-2x_lvis-v1 with ResNet-101 (ModelTC/EOD configs/det/efl/
# efl_improved_baseline_r101_2x_rfs.yaml).
_base_ = './atss_r50_fpn_efl_sample1e-3-ms-2x_lvis-v1.py'
model = dict(backbone=dict(depth=101, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')))
