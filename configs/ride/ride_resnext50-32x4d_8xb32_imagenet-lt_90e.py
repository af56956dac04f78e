# RIDE (Wang et al., ICLR 2021), 3 experts, ResNeXt-50 (32x4d) on ImageNet-LT: the official ImageNet-LT recipe
# (frank-xwang/RIDE-LongTailRecognition configs/config_imagenet_lt_resnext50_ride.json), identical to the ResNet-50
# config but for the backbone: lambda -0.2, reweight_factor 0.02, LDAM-DRW per expert with DRW from epoch 80, SGD
# nesterov lr 0.1 for batch 256 (8 x 32), weight decay 2e-4, linear warm-up 5 epochs, x0.1 at 60 and x0.01 at 80;
# 90 epochs where the official run has 100 (see README). Network: shared stem + layer1 + layer2, per-expert layer3 +
# layer4 (32 groups x 4) at 3/4 width, a 1536-d feature per expert; no router (stage 2).
# tools/dist_train.sh THIS_CONFIG 8
_base_ = './ride_resnet50_8xb32_imagenet-lt_90e.py'
model = dict(backbone=dict(type='RIDEResNeXt', groups=32, width_per_group=4))
