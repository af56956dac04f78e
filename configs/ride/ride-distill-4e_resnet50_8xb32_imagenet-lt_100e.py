# RIDE with distillation, a 4-expert ResNet-50 student distilled from the 6-expert teacher, ImageNet-LT, 100 epochs:
# the official configs/config_imagenet_lt_resnet50_distill_ride.json with 4 experts (as MODEL_ZOO's distilled rows):
# T 1.5, KD factor 1.0 (the whole loss counted K times), lambda -0.2, f 0.02, DRW from 80, SGD nesterov lr 0.1 for
# batch 256 (8 x 32), wd 2e-4, warm-up 5, x0.1 at 60 and 80; teacher in train mode without gradients. Train
# ./ride-6e_resnet50_8xb32_imagenet-lt_100e.py first. The ResNeXt-50 student inherits this file.
# tools/dist_train.sh THIS_CONFIG 8
_base_ = './ride-6e_resnet50_8xb32_imagenet-lt_100e.py'
model = dict(
    type='RIDEClassifier',
    teacher=dict(config='configs/ride/ride-6e_resnet50_8xb32_imagenet-lt_100e.py',
                 checkpoint='work_dirs/ride-6e_resnet50_8xb32_imagenet-lt_100e/epoch_100.pth',
                 train_mode=True),
    backbone=dict(num_experts=4),
    head=dict(num_experts=4, loss=dict(type='RIDEDistillLoss', distill_temperature=1.5, distill_factor=1.0)))
