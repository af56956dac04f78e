# RIDE teacher for distillation, 6 experts, ResNeXt-50 (32x4d) on ImageNet-LT, the official 100-epoch recipe
# (frank-xwang/RIDE-LongTailRecognition configs/config_imagenet_lt_resnext50_ride.json with num_experts 6; its
# distill_arch): ./ride-6e_resnet50_8xb32_imagenet-lt_100e.py with the ResNeXt-50 backbone. tools/dist_train.sh
# THIS_CONFIG 8
_base_ = './ride-6e_resnet50_8xb32_imagenet-lt_100e.py'
model = dict(backbone=dict(type='RIDEResNeXt', groups=32, width_per_group=4))
