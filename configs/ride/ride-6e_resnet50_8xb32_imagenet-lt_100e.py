# RIDE teacher for distillation, 6 experts, ResNet-50 on ImageNet-LT, the official 100-epoch recipe
# (frank-xwang/RIDE-LongTailRecognition configs/config_imagenet_lt_resnet50_ride.json with num_experts 6: the
# distill_arch of config_imagenet_lt_resnet50_distill_ride.json): lambda -0.2, f 0.02, DRW from epoch 80, SGD nesterov
# lr 0.1 for batch 256 (8 x 32), wd 2e-4, warm-up 5, x0.1 at 60 and 80. The ResNeXt-50 teacher inherits this file.
# tools/dist_train.sh THIS_CONFIG 8
_base_ = ['./_base_/ride_resnet50_imagenet-lt.py', '../_base_/schedules/ride_100e.py']
custom_hooks = [dict(type='LossEpochHook')]  # tells the loss the epoch (DRW)
model = dict(backbone=dict(num_experts=6), head=dict(num_experts=6))
train_dataloader = dict(batch_size=32)
