# RIDE with distillation, a 4-expert ResNeXt-50 (32x4d) student distilled from the 6-expert teacher, ImageNet-LT,
# 100 epochs: the official configs/config_imagenet_lt_resnext50_distill_ride.json with 4 experts (MODEL_ZOO's
# distilled row), ./ride-distill-4e_resnet50_8xb32_imagenet-lt_100e.py with the ResNeXt-50 backbone and teacher.
# Train ./ride-6e_resnext50-32x4d_8xb32_imagenet-lt_100e.py first. tools/dist_train.sh THIS_CONFIG 8
_base_ = './ride-distill-4e_resnet50_8xb32_imagenet-lt_100e.py'
model = dict(
    teacher=dict(config='configs/ride/ride-6e_resnext50-32x4d_8xb32_imagenet-lt_100e.py',
                 checkpoint='work_dirs/ride-6e_resnext50-32x4d_8xb32_imagenet-lt_100e/epoch_100.pth'),
    backbone=dict(type='RIDEResNeXt', groups=32, width_per_group=4))
